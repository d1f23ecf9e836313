-- DropIndex
DROP INDEX "ticket_booking_id_idx";

-- CreateIndex
CREATE UNIQUE INDEX "ticket_booking_id_key" ON "ticket"("booking_id");
