-- DropIndex
DROP INDEX "dead_letter"."dead_letter_next_retry_at_idx";

-- CreateIndex
CREATE INDEX "dead_letter_next_retry_at_idx" ON "dead_letter"."dead_letter"("next_retry_at") WHERE (next_retry_at IS NOT NULL);
