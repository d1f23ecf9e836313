-- CreateTable
CREATE TABLE "booking_queue"."idempotency_record" (
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
CREATE INDEX "idempotency_record_created_at_idx" ON "booking_queue"."idempotency_record"("created_at");

-- Until now nothing stopped a patient from holding two active bookings in one slot, and the index below
-- would refuse to build over them. Keep the furthest along (checked in, then confirmed, then pending, the
-- earliest on a tie), cancel the others and give their places back. Rows are kept, only their status changes.
-- The lock keeps new bookings out until the index stands (the script runs as one transaction).
LOCK TABLE "booking_queue"."booking" IN SHARE ROW EXCLUSIVE MODE;

WITH ranked AS (
    SELECT "id", "slot_id",
           row_number() OVER (
               PARTITION BY "slot_id", "patient_id"
               ORDER BY CASE "status" WHEN 'checked_in' THEN 0 WHEN 'confirmed' THEN 1 ELSE 2 END, "created_at", "id"
           ) AS "rank"
    FROM "booking_queue"."booking"
    WHERE "status" IN ('pending', 'confirmed', 'checked_in')
), cancelled AS (
    UPDATE "booking_queue"."booking" AS b
    SET "status" = 'cancelled',
        "cancel_reason" = 'duplicate: the patient already holds an active booking in this slot',
        "updated_at" = CURRENT_TIMESTAMP
    FROM ranked
    WHERE b."id" = ranked."id" AND ranked."rank" > 1
    RETURNING b."slot_id"
)
UPDATE "booking_queue"."slot" AS s
SET "booked" = GREATEST(s."booked" - released."places", 0),
    "updated_at" = CURRENT_TIMESTAMP
FROM (SELECT "slot_id", count(*)::int AS "places" FROM cancelled GROUP BY "slot_id") AS released
WHERE s."id" = released."slot_id";

-- CreateIndex
CREATE UNIQUE INDEX "booking_one_active_per_patient_slot" ON "booking_queue"."booking"("slot_id", "patient_id") WHERE (status IN ('pending', 'confirmed', 'checked_in'));
