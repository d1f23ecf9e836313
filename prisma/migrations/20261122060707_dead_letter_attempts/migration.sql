-- Dead letters count their attempts: the same event failing again at the same destination is one letter.
-- A letter without a destination keeps "" so that the unique key (source, id, destination) matches it too
-- (NULLs never match each other in a unique index).
UPDATE "dead_letter"."dead_letter" SET "error_dest" = '' WHERE "error_dest" IS NULL;
-- Letters kept so far were seen once, when they arrived.

-- AlterTable
ALTER TABLE "dead_letter"."dead_letter" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "consumer" TEXT,
ADD COLUMN     "fingerprint" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "kafka_source" TEXT,
ADD COLUMN     "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "truncated" BOOLEAN NOT NULL DEFAULT false,
ALTER COLUMN "error_dest" SET NOT NULL,
ALTER COLUMN "error_dest" SET DEFAULT '';

-- CreateIndex
CREATE INDEX "dead_letter_fingerprint_idx" ON "dead_letter"."dead_letter"("fingerprint");

UPDATE "dead_letter"."dead_letter" SET "last_seen_at" = "received_at";
