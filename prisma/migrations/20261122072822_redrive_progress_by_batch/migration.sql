-- AlterTable
ALTER TABLE "dead_letter"."redrive_item" DROP COLUMN "kafka_offset",
DROP COLUMN "partition",
DROP COLUMN "topic";

-- AlterTable
ALTER TABLE "dead_letter"."redrive_task" ADD COLUMN     "sent_through" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "unconfirmed_from" JSONB;

-- CreateTable
CREATE TABLE "dead_letter"."redrive_batch" (
    "task_id" UUID NOT NULL,
    "through_seq" INTEGER NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "redrive_batch_pkey" PRIMARY KEY ("task_id","through_seq")
);

-- AddForeignKey
ALTER TABLE "dead_letter"."redrive_batch" ADD CONSTRAINT "redrive_batch_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "dead_letter"."redrive_task"("id") ON DELETE CASCADE ON UPDATE CASCADE;
