-- AlterTable
ALTER TABLE "patient_booking"."package_booking" ADD COLUMN     "reminded_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "package_booking_status_starts_at_idx" ON "patient_booking"."package_booking"("status", "starts_at");
