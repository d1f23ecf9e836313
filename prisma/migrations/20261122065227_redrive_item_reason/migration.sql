-- AlterTable
ALTER TABLE "dead_letter"."redrive_item" ADD COLUMN     "reason" TEXT;

-- CreateIndex
CREATE INDEX "redrive_item_letter_id_idx" ON "dead_letter"."redrive_item"("letter_id");
