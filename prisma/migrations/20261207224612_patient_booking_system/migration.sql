-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "patient_booking";

-- CreateEnum
CREATE TYPE "patient_booking"."package_booking_status" AS ENUM ('requested', 'pending', 'confirmed', 'rejected', 'cancel_requested', 'cancelled', 'checked_in', 'completed', 'no_show');

-- CreateEnum
CREATE TYPE "patient_booking"."report_status" AS ENUM ('registered', 'partial', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered_in_error');

-- CreateEnum
CREATE TYPE "patient_booking"."release_state" AS ENUM ('pending', 'held', 'released', 'withheld');

-- CreateTable
CREATE TABLE "patient_booking"."patient" (
    "patient_id" TEXT NOT NULL,
    "tier" TEXT NOT NULL DEFAULT 'standard',
    "language" TEXT NOT NULL DEFAULT 'vi',
    "timezone" TEXT NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    "sex" TEXT,
    "birth_date" DATE,
    "erased_at" TIMESTAMPTZ(3),
    "crm_version" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "patient_pkey" PRIMARY KEY ("patient_id")
);

-- CreateTable
CREATE TABLE "patient_booking"."catalogue_test" (
    "code" TEXT NOT NULL,
    "version" BIGINT NOT NULL,
    "loinc" TEXT,
    "name" TEXT NOT NULL,
    "unit" TEXT,
    "reference_low" DOUBLE PRECISION,
    "reference_high" DOUBLE PRECISION,
    "reference_text" TEXT,
    "category" TEXT,
    "price_vnd" BIGINT,
    "withdrawn_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "catalogue_test_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "patient_booking"."catalogue_package" (
    "code" TEXT NOT NULL,
    "version" BIGINT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "test_codes" TEXT[],
    "price_vnd" BIGINT NOT NULL,
    "service_id" TEXT NOT NULL,
    "sex" TEXT,
    "min_age" INTEGER,
    "max_age" INTEGER,
    "withdrawn_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "catalogue_package_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "patient_booking"."recommendation" (
    "patient_id" TEXT NOT NULL,
    "package_code" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "reasons" JSONB NOT NULL,
    "rules_version" TEXT NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recommendation_pkey" PRIMARY KEY ("patient_id","package_code")
);

-- CreateTable
CREATE TABLE "patient_booking"."package_booking" (
    "id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "package_code" TEXT NOT NULL,
    "package_version" BIGINT NOT NULL,
    "price_vnd" BIGINT NOT NULL,
    "slot_id" UUID NOT NULL,
    "branch_id" TEXT,
    "service_id" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3),
    "status" "patient_booking"."package_booking_status" NOT NULL DEFAULT 'requested',
    "queue_booking_id" UUID,
    "reject_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "package_booking_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient_booking"."visit" (
    "appointment_id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "branch_id" TEXT NOT NULL,
    "visit_type_id" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "payment_status" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "visit_pkey" PRIMARY KEY ("appointment_id")
);

-- CreateTable
CREATE TABLE "patient_booking"."result_order" (
    "accession" TEXT NOT NULL,
    "patient_id" TEXT NOT NULL,
    "package_booking_id" UUID,
    "appointment_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "result_order_pkey" PRIMARY KEY ("accession")
);

-- CreateTable
CREATE TABLE "patient_booking"."diagnostic_report" (
    "id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "accession" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "loinc" TEXT,
    "display" TEXT,
    "order_number" TEXT,
    "package_booking_id" UUID,
    "appointment_id" UUID,
    "lane" TEXT NOT NULL,
    "status" "patient_booking"."report_status" NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "priority" TEXT,
    "effective_at" TIMESTAMPTZ(3),
    "issued_at" TIMESTAMPTZ(3),
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "content_hash" TEXT NOT NULL,
    "release_state" "patient_booking"."release_state" NOT NULL DEFAULT 'pending',
    "hold_reason" TEXT,
    "release_due_at" TIMESTAMPTZ(3),
    "released_at" TIMESTAMPTZ(3),
    "released_version" INTEGER,
    "critical" BOOLEAN NOT NULL DEFAULT false,
    "called_at" TIMESTAMPTZ(3),
    "called_by" TEXT,
    "detached_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "diagnostic_report_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient_booking"."observation" (
    "id" UUID NOT NULL,
    "report_id" UUID NOT NULL,
    "report_version" INTEGER NOT NULL,
    "patient_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "loinc" TEXT,
    "display" TEXT,
    "value_type" TEXT NOT NULL,
    "value_number" DOUBLE PRECISION,
    "value_text" TEXT,
    "unit" TEXT,
    "reference_low" DOUBLE PRECISION,
    "reference_high" DOUBLE PRECISION,
    "reference_text" TEXT,
    "interpretation" TEXT[],
    "status" "patient_booking"."report_status" NOT NULL,
    "effective_at" TIMESTAMPTZ(3),

    CONSTRAINT "observation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient_booking"."result_audit" (
    "id" BIGSERIAL NOT NULL,
    "report_id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "version" INTEGER,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "result_audit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient_booking"."hl7_message" (
    "sender" TEXT NOT NULL,
    "control_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "hl7_message_pkey" PRIMARY KEY ("sender","control_id")
);

-- CreateTable
CREATE TABLE "patient_booking"."outbox_event" (
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
CREATE TABLE "patient_booking"."inbox_event" (
    "source" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "consumer" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_event_pkey" PRIMARY KEY ("consumer","source","id")
);

-- CreateTable
CREATE TABLE "patient_booking"."idempotency_record" (
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
CREATE INDEX "catalogue_test_loinc_idx" ON "patient_booking"."catalogue_test"("loinc");

-- CreateIndex
CREATE UNIQUE INDEX "package_booking_queue_booking_id_key" ON "patient_booking"."package_booking"("queue_booking_id");

-- CreateIndex
CREATE INDEX "package_booking_patient_id_created_at_idx" ON "patient_booking"."package_booking"("patient_id", "created_at");

-- CreateIndex
CREATE INDEX "visit_patient_id_idx" ON "patient_booking"."visit"("patient_id");

-- CreateIndex
CREATE INDEX "result_order_patient_id_idx" ON "patient_booking"."result_order"("patient_id");

-- CreateIndex
CREATE INDEX "diagnostic_report_patient_id_effective_at_idx" ON "patient_booking"."diagnostic_report"("patient_id", "effective_at");

-- CreateIndex
CREATE INDEX "diagnostic_report_release_state_release_due_at_idx" ON "patient_booking"."diagnostic_report"("release_state", "release_due_at");

-- CreateIndex
CREATE UNIQUE INDEX "diagnostic_report_accession_code_key" ON "patient_booking"."diagnostic_report"("accession", "code");

-- CreateIndex
CREATE INDEX "observation_patient_id_loinc_effective_at_idx" ON "patient_booking"."observation"("patient_id", "loinc", "effective_at");

-- CreateIndex
CREATE UNIQUE INDEX "observation_report_id_report_version_seq_key" ON "patient_booking"."observation"("report_id", "report_version", "seq");

-- CreateIndex
CREATE INDEX "result_audit_report_id_at_idx" ON "patient_booking"."result_audit"("report_id", "at");

-- CreateIndex
CREATE INDEX "result_audit_patient_id_at_idx" ON "patient_booking"."result_audit"("patient_id", "at");

-- CreateIndex
CREATE INDEX "hl7_message_received_at_idx" ON "patient_booking"."hl7_message"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "patient_booking"."outbox_event"("id");

-- CreateIndex
CREATE INDEX "outbox_event_published_at_seq_idx" ON "patient_booking"."outbox_event"("published_at", "seq");

-- CreateIndex
CREATE INDEX "inbox_event_processed_at_idx" ON "patient_booking"."inbox_event"("processed_at");

-- CreateIndex
CREATE INDEX "idempotency_record_created_at_idx" ON "patient_booking"."idempotency_record"("created_at");

-- AddForeignKey
ALTER TABLE "patient_booking"."observation" ADD CONSTRAINT "observation_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "patient_booking"."diagnostic_report"("id") ON DELETE CASCADE ON UPDATE CASCADE;
