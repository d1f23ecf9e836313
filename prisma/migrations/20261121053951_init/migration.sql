-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "slot_status" AS ENUM ('open', 'closed');

-- CreateEnum
CREATE TYPE "booking_status" AS ENUM ('pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show');

-- CreateEnum
CREATE TYPE "lane" AS ENUM ('svip', 'vip', 'booked', 'walkin');

-- CreateEnum
CREATE TYPE "ticket_status" AS ENUM ('waiting', 'called', 'skipped', 'served', 'no_show');

-- CreateTable
CREATE TABLE "branch" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    "lane_order" TEXT[] DEFAULT ARRAY['svip', 'vip', 'booked', 'walkin']::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "branch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "ticket_prefix" VARCHAR(2) NOT NULL,
    "duration_minutes" INTEGER NOT NULL DEFAULT 15,
    "requires_confirmation" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "slot" (
    "id" UUID NOT NULL,
    "branch_id" TEXT NOT NULL,
    "service_id" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "capacity" INTEGER NOT NULL,
    "booked" INTEGER NOT NULL DEFAULT 0,
    "status" "slot_status" NOT NULL DEFAULT 'open',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "slot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "booking" (
    "id" UUID NOT NULL,
    "slot_id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "status" "booking_status" NOT NULL,
    "idempotency_key" TEXT,
    "channel" TEXT NOT NULL DEFAULT 'portal',
    "cancel_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "booking_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ticket" (
    "id" UUID NOT NULL,
    "branch_id" TEXT NOT NULL,
    "service_id" TEXT NOT NULL,
    "day" VARCHAR(10) NOT NULL,
    "seq" INTEGER NOT NULL,
    "number" VARCHAR(12) NOT NULL,
    "lane" "lane" NOT NULL,
    "status" "ticket_status" NOT NULL DEFAULT 'waiting',
    "patient_id" TEXT,
    "booking_id" UUID,
    "counter" TEXT,
    "issued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "called_at" TIMESTAMPTZ(3),
    "served_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ticket_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_event" (
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

    CONSTRAINT "outbox_event_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "inbox_event" (
    "source" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "consumer" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_event_pkey" PRIMARY KEY ("consumer","source","id")
);

-- CreateTable
CREATE TABLE "dead_letter" (
    "id" UUID NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_source" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "topic" TEXT,
    "error_dest" TEXT,
    "error_code" INTEGER,
    "error_data" TEXT,
    "reason" TEXT,
    "event" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dead_letter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "slot_branch_id_starts_at_idx" ON "slot"("branch_id", "starts_at");

-- CreateIndex
CREATE UNIQUE INDEX "slot_branch_id_service_id_starts_at_key" ON "slot"("branch_id", "service_id", "starts_at");

-- CreateIndex
CREATE INDEX "booking_patient_id_created_at_idx" ON "booking"("patient_id", "created_at");

-- CreateIndex
CREATE INDEX "booking_slot_id_idx" ON "booking"("slot_id");

-- CreateIndex
CREATE UNIQUE INDEX "booking_patient_id_idempotency_key_key" ON "booking"("patient_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "ticket_branch_id_service_id_day_status_idx" ON "ticket"("branch_id", "service_id", "day", "status");

-- CreateIndex
CREATE INDEX "ticket_booking_id_idx" ON "ticket"("booking_id");

-- CreateIndex
CREATE UNIQUE INDEX "ticket_branch_id_service_id_day_seq_key" ON "ticket"("branch_id", "service_id", "day", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "outbox_event"("id");

-- CreateIndex
CREATE INDEX "outbox_event_published_at_seq_idx" ON "outbox_event"("published_at", "seq");

-- CreateIndex
CREATE INDEX "dead_letter_received_at_idx" ON "dead_letter"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "dead_letter_event_source_event_id_error_dest_key" ON "dead_letter"("event_source", "event_id", "error_dest");

-- AddForeignKey
ALTER TABLE "slot" ADD CONSTRAINT "slot_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "slot" ADD CONSTRAINT "slot_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "booking" ADD CONSTRAINT "booking_slot_id_fkey" FOREIGN KEY ("slot_id") REFERENCES "slot"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_booking_id_fkey" FOREIGN KEY ("booking_id") REFERENCES "booking"("id") ON DELETE SET NULL ON UPDATE CASCADE;
