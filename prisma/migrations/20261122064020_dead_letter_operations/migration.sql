-- CreateEnum
CREATE TYPE "dead_letter"."letter_status" AS ENUM ('open', 'retrying', 'parked', 'resolved', 'discarded');

-- DropIndex
DROP INDEX "dead_letter"."dead_letter_fingerprint_idx";

-- DropIndex
DROP INDEX "dead_letter"."dead_letter_received_at_idx";

-- AlterTable
ALTER TABLE "dead_letter"."dead_letter" ADD COLUMN     "kafka_offset" BIGINT,
ADD COLUMN     "next_retry_at" TIMESTAMPTZ(3),
ADD COLUMN     "partition" INTEGER,
ADD COLUMN     "record_key" TEXT,
ADD COLUMN     "resolution" TEXT,
ADD COLUMN     "retries" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "status" "dead_letter"."letter_status" NOT NULL DEFAULT 'open',
ADD COLUMN     "status_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "status_by" TEXT,
ADD COLUMN     "status_reason" TEXT,
ADD COLUMN     "system" TEXT NOT NULL DEFAULT 'unknown';

-- CreateTable
CREATE TABLE "dead_letter"."attempt" (
    "id" BIGSERIAL NOT NULL,
    "letter_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "by" TEXT,
    "outcome" TEXT NOT NULL,
    "code" INTEGER,
    "reason" TEXT,

    CONSTRAINT "attempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dead_letter"."letter_view" (
    "id" BIGSERIAL NOT NULL,
    "letter_id" UUID NOT NULL,
    "viewer" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "letter_view_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dead_letter"."redrive_task" (
    "id" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "selection" JSONB NOT NULL,
    "rate_per_second" INTEGER NOT NULL,
    "total" INTEGER NOT NULL,
    "sent" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "error" TEXT,

    CONSTRAINT "redrive_task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dead_letter"."redrive_item" (
    "task_id" UUID NOT NULL,
    "letter_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "sent_at" TIMESTAMPTZ(3),
    "topic" TEXT,
    "partition" INTEGER,
    "kafka_offset" BIGINT,

    CONSTRAINT "redrive_item_pkey" PRIMARY KEY ("task_id","letter_id")
);

-- CreateTable
CREATE TABLE "dead_letter"."alert" (
    "key" TEXT NOT NULL,
    "raised_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "detail" JSONB,

    CONSTRAINT "alert_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "dead_letter"."outbox_event" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "subject" TEXT,
    "time" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "data" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "traceparent" TEXT,
    "tracestate" TEXT,

    CONSTRAINT "outbox_event_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "dead_letter"."inbox_event" (
    "source" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "consumer" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_event_pkey" PRIMARY KEY ("consumer","source","id")
);

-- CreateTable
CREATE TABLE "dead_letter"."idempotency_record" (
    "scope" TEXT NOT NULL,
    "caller" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "headers" JSONB NOT NULL,
    "body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_record_pkey" PRIMARY KEY ("scope","caller","key")
);

-- CreateIndex
CREATE INDEX "attempt_letter_id_at_idx" ON "dead_letter"."attempt"("letter_id", "at");

-- CreateIndex
CREATE INDEX "letter_view_letter_id_at_idx" ON "dead_letter"."letter_view"("letter_id", "at");

-- CreateIndex
CREATE INDEX "letter_view_viewer_at_idx" ON "dead_letter"."letter_view"("viewer", "at");

-- CreateIndex
CREATE INDEX "redrive_task_status_created_at_idx" ON "dead_letter"."redrive_task"("status", "created_at");

-- CreateIndex
CREATE INDEX "redrive_item_task_id_status_seq_idx" ON "dead_letter"."redrive_item"("task_id", "status", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "dead_letter"."outbox_event"("id");

-- CreateIndex
CREATE INDEX "outbox_event_published_at_seq_idx" ON "dead_letter"."outbox_event"("published_at", "seq");

-- CreateIndex
CREATE INDEX "idempotency_record_created_at_idx" ON "dead_letter"."idempotency_record"("created_at");

-- CreateIndex
CREATE INDEX "dead_letter_received_at_id_idx" ON "dead_letter"."dead_letter"("received_at" DESC, "id");

-- CreateIndex
CREATE INDEX "dead_letter_status_received_at_id_idx" ON "dead_letter"."dead_letter"("status", "received_at" DESC, "id");

-- CreateIndex
CREATE INDEX "dead_letter_system_status_received_at_id_idx" ON "dead_letter"."dead_letter"("system", "status", "received_at" DESC, "id");

-- CreateIndex
CREATE INDEX "dead_letter_fingerprint_received_at_id_idx" ON "dead_letter"."dead_letter"("fingerprint", "received_at" DESC, "id");

-- CreateIndex
CREATE INDEX "dead_letter_next_retry_at_idx" ON "dead_letter"."dead_letter"("next_retry_at");

-- AddForeignKey
ALTER TABLE "dead_letter"."attempt" ADD CONSTRAINT "attempt_letter_id_fkey" FOREIGN KEY ("letter_id") REFERENCES "dead_letter"."dead_letter"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dead_letter"."letter_view" ADD CONSTRAINT "letter_view_letter_id_fkey" FOREIGN KEY ("letter_id") REFERENCES "dead_letter"."dead_letter"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "dead_letter"."redrive_item" ADD CONSTRAINT "redrive_item_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "dead_letter"."redrive_task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Letters kept before this migration start their history with the delivery failure that brought them.
INSERT INTO "dead_letter"."attempt" ("letter_id", "at", "kind", "outcome", "code", "reason")
SELECT "id", "received_at", 'delivery', 'failed', "error_code", "reason" FROM "dead_letter"."dead_letter";
