-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "appointment";

-- CreateEnum
CREATE TYPE "appointment"."resource_kind" AS ENUM ('practitioner', 'room', 'device');

-- CreateEnum
CREATE TYPE "appointment"."exception_kind" AS ENUM ('closed', 'open');

-- CreateEnum
CREATE TYPE "appointment"."appointment_status" AS ENUM ('proposed', 'pending', 'booked', 'arrived', 'checked-in', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'waitlist');

-- CreateEnum
CREATE TYPE "appointment"."payment_status" AS ENUM ('not-required', 'awaiting', 'paid', 'refunded');

-- CreateEnum
CREATE TYPE "appointment"."sample_status" AS ENUM ('ordered', 'collected', 'received', 'in-process', 'completed', 'rejected');

-- CreateEnum
CREATE TYPE "appointment"."pos_order_status" AS ENUM ('created', 'paid', 'refunded');

-- CreateTable
CREATE TABLE "appointment"."resource" (
    "id" UUID NOT NULL,
    "branch_id" TEXT NOT NULL,
    "kind" "appointment"."resource_kind" NOT NULL,
    "name" TEXT NOT NULL,
    "capabilities" TEXT[],
    "timezone" TEXT NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "hours" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "resource_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointment"."schedule_exception" (
    "id" UUID NOT NULL,
    "resource_id" UUID NOT NULL,
    "kind" "appointment"."exception_kind" NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT,

    CONSTRAINT "schedule_exception_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointment"."visit_type" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "duration_minutes" INTEGER NOT NULL,
    "requirements" JSONB NOT NULL,
    "requires_payment" BOOLEAN NOT NULL DEFAULT false,
    "active" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "visit_type_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointment"."appointment" (
    "id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "branch_id" TEXT NOT NULL,
    "visit_type_id" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "status" "appointment"."appointment_status" NOT NULL,
    "hold_expires_at" TIMESTAMPTZ(3),
    "payment_status" "appointment"."payment_status" NOT NULL DEFAULT 'not-required',
    "cancel_reason" TEXT,
    "cancel_note" TEXT,
    "notes" TEXT,
    "patient_timezone" TEXT NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    "language" TEXT NOT NULL DEFAULT 'vi',
    "channel" TEXT NOT NULL DEFAULT 'portal',
    "checkup_request_id" TEXT,
    "reminded_24h_at" TIMESTAMPTZ(3),
    "reminded_2h_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "appointment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointment"."resource_booking" (
    "id" BIGSERIAL NOT NULL,
    "appointment_id" UUID NOT NULL,
    "resource_id" UUID NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "released_at" TIMESTAMPTZ(3),

    CONSTRAINT "resource_booking_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointment"."timeline_entry" (
    "id" BIGSERIAL NOT NULL,
    "appointment_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "by" TEXT NOT NULL,

    CONSTRAINT "timeline_entry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointment"."lab_order" (
    "accession" TEXT NOT NULL,
    "appointment_id" UUID NOT NULL,
    "order_status" TEXT,
    "sample_status" "appointment"."sample_status" NOT NULL DEFAULT 'ordered',
    "reject_reason" TEXT,
    "status_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lab_order_pkey" PRIMARY KEY ("accession")
);

-- CreateTable
CREATE TABLE "appointment"."pos_order" (
    "order_id" TEXT NOT NULL,
    "appointment_id" UUID NOT NULL,
    "status" "appointment"."pos_order_status" NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" TEXT NOT NULL DEFAULT 'VND',
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pos_order_pkey" PRIMARY KEY ("order_id")
);

-- CreateTable
CREATE TABLE "appointment"."hl7_message" (
    "sender" TEXT NOT NULL,
    "control_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "hl7_message_pkey" PRIMARY KEY ("sender","control_id")
);

-- CreateTable
CREATE TABLE "appointment"."outbox_event" (
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
CREATE TABLE "appointment"."inbox_event" (
    "source" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "consumer" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_event_pkey" PRIMARY KEY ("consumer","source","id")
);

-- CreateTable
CREATE TABLE "appointment"."idempotency_record" (
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
CREATE INDEX "resource_branch_id_kind_idx" ON "appointment"."resource"("branch_id", "kind");

-- CreateIndex
CREATE INDEX "schedule_exception_resource_id_starts_at_idx" ON "appointment"."schedule_exception"("resource_id", "starts_at");

-- CreateIndex
CREATE INDEX "appointment_patient_id_starts_at_idx" ON "appointment"."appointment"("patient_id", "starts_at");

-- CreateIndex
CREATE INDEX "appointment_branch_id_starts_at_idx" ON "appointment"."appointment"("branch_id", "starts_at");

-- CreateIndex
CREATE INDEX "appointment_status_starts_at_idx" ON "appointment"."appointment"("status", "starts_at");

-- CreateIndex
CREATE INDEX "appointment_hold_expires_at_idx" ON "appointment"."appointment"("hold_expires_at") WHERE (hold_expires_at IS NOT NULL);

-- CreateIndex
CREATE UNIQUE INDEX "appointment_checkup_request_id_patient_id_key" ON "appointment"."appointment"("checkup_request_id", "patient_id");

-- CreateIndex
CREATE INDEX "resource_booking_resource_id_starts_at_idx" ON "appointment"."resource_booking"("resource_id", "starts_at");

-- CreateIndex
CREATE INDEX "resource_booking_appointment_id_idx" ON "appointment"."resource_booking"("appointment_id");

-- CreateIndex
CREATE INDEX "timeline_entry_appointment_id_at_idx" ON "appointment"."timeline_entry"("appointment_id", "at");

-- CreateIndex
CREATE INDEX "lab_order_appointment_id_idx" ON "appointment"."lab_order"("appointment_id");

-- CreateIndex
CREATE INDEX "pos_order_appointment_id_idx" ON "appointment"."pos_order"("appointment_id");

-- CreateIndex
CREATE INDEX "hl7_message_received_at_idx" ON "appointment"."hl7_message"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "appointment"."outbox_event"("id");

-- CreateIndex
CREATE INDEX "outbox_event_published_at_seq_idx" ON "appointment"."outbox_event"("published_at", "seq");

-- CreateIndex
CREATE INDEX "inbox_event_processed_at_idx" ON "appointment"."inbox_event"("processed_at");

-- CreateIndex
CREATE INDEX "idempotency_record_created_at_idx" ON "appointment"."idempotency_record"("created_at");

-- AddForeignKey
ALTER TABLE "appointment"."schedule_exception" ADD CONSTRAINT "schedule_exception_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "appointment"."resource"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "appointment"."resource_booking" ADD CONSTRAINT "resource_booking_appointment_id_fkey" FOREIGN KEY ("appointment_id") REFERENCES "appointment"."appointment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "appointment"."timeline_entry" ADD CONSTRAINT "timeline_entry_appointment_id_fkey" FOREIGN KEY ("appointment_id") REFERENCES "appointment"."appointment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "appointment"."lab_order" ADD CONSTRAINT "lab_order_appointment_id_fkey" FOREIGN KEY ("appointment_id") REFERENCES "appointment"."appointment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "appointment"."pos_order" ADD CONSTRAINT "pos_order_appointment_id_fkey" FOREIGN KEY ("appointment_id") REFERENCES "appointment"."appointment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- No resource is ever double-booked: two holdings of one resource that are both in force (released_at IS
-- NULL) may not overlap in time. Checked by the database at insert, whatever the code did before; a
-- concurrent insert waits for the other transaction and then fails with 23P01 (exclusion_violation).
-- Half-open ranges: an appointment ending at 09:00 and another starting at 09:00 do not overlap.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE "appointment"."resource_booking" ADD CONSTRAINT "resource_booking_no_overlap"
  EXCLUDE USING gist ("resource_id" WITH =, tstzrange("starts_at", "ends_at", '[)') WITH &&) WHERE ("released_at" IS NULL);
-- A holding ends after it starts (an empty range would overlap nothing and hold nothing).
ALTER TABLE "appointment"."resource_booking" ADD CONSTRAINT "resource_booking_time_order" CHECK ("ends_at" > "starts_at");
