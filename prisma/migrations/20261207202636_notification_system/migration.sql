-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "notification";

-- CreateEnum
CREATE TYPE "notification"."notification_status" AS ENUM ('pending', 'dispatched', 'done', 'unreachable', 'cancelled');

-- CreateEnum
CREATE TYPE "notification"."delivery_status" AS ENUM ('queued', 'sent', 'delivered', 'undelivered', 'failed', 'read');

-- CreateTable
CREATE TABLE "notification"."contact_point" (
    "patient_id" TEXT NOT NULL,
    "email" TEXT,
    "phone" TEXT,
    "language" TEXT NOT NULL DEFAULT 'vi',
    "timezone" TEXT NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    "tier" TEXT NOT NULL DEFAULT 'standard',
    "erased" BOOLEAN NOT NULL DEFAULT false,
    "crm_version" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_point_pkey" PRIMARY KEY ("patient_id")
);

-- CreateTable
CREATE TABLE "notification"."push_subscription" (
    "id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "p256dh" TEXT NOT NULL,
    "auth" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "gone_at" TIMESTAMPTZ(3),

    CONSTRAINT "push_subscription_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification"."preference" (
    "patient_id" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "channels" TEXT[],
    "quiet_start" TEXT,
    "quiet_end" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "preference_pkey" PRIMARY KEY ("patient_id","category")
);

-- CreateTable
CREATE TABLE "notification"."notification" (
    "id" UUID NOT NULL,
    "request_id" TEXT NOT NULL,
    "recipient_kind" TEXT NOT NULL,
    "patient_id" TEXT,
    "team" TEXT,
    "template" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "critical" BOOLEAN NOT NULL DEFAULT false,
    "variables" JSONB NOT NULL DEFAULT '{}',
    "group_key" TEXT,
    "channels" TEXT[],
    "status" "notification"."notification_status" NOT NULL DEFAULT 'pending',
    "send_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification"."delivery" (
    "id" UUID NOT NULL,
    "notification_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "status" "notification"."delivery_status" NOT NULL DEFAULT 'queued',
    "provider" TEXT,
    "provider_message_id" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "claimed_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "status_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "delivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification"."delivery_event" (
    "id" BIGSERIAL NOT NULL,
    "delivery_id" UUID NOT NULL,
    "status" "notification"."delivery_status" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "source" TEXT NOT NULL,
    "error_code" TEXT,

    CONSTRAINT "delivery_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification"."inbox_item" (
    "id" UUID NOT NULL,
    "patient_id" TEXT NOT NULL,
    "notification_id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "category" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "link" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seen_at" TIMESTAMPTZ(3),
    "read_at" TIMESTAMPTZ(3),
    "archived_at" TIMESTAMPTZ(3),

    CONSTRAINT "inbox_item_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notification"."outbox_event" (
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
CREATE TABLE "notification"."inbox_event" (
    "source" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "consumer" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_event_pkey" PRIMARY KEY ("consumer","source","id")
);

-- CreateTable
CREATE TABLE "notification"."idempotency_record" (
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
CREATE UNIQUE INDEX "push_subscription_endpoint_key" ON "notification"."push_subscription"("endpoint");

-- CreateIndex
CREATE INDEX "push_subscription_patient_id_idx" ON "notification"."push_subscription"("patient_id");

-- CreateIndex
CREATE UNIQUE INDEX "notification_request_id_key" ON "notification"."notification"("request_id");

-- CreateIndex
CREATE INDEX "notification_status_send_at_idx" ON "notification"."notification"("status", "send_at");

-- CreateIndex
CREATE INDEX "notification_patient_id_created_at_idx" ON "notification"."notification"("patient_id", "created_at");

-- CreateIndex
CREATE INDEX "notification_group_key_status_idx" ON "notification"."notification"("group_key", "status");

-- CreateIndex
CREATE INDEX "delivery_next_attempt_at_idx" ON "notification"."delivery"("next_attempt_at") WHERE (next_attempt_at IS NOT NULL);

-- CreateIndex
CREATE INDEX "delivery_provider_provider_message_id_idx" ON "notification"."delivery"("provider", "provider_message_id");

-- CreateIndex
CREATE UNIQUE INDEX "delivery_notification_id_channel_key" ON "notification"."delivery"("notification_id", "channel");

-- CreateIndex
CREATE INDEX "delivery_event_delivery_id_at_idx" ON "notification"."delivery_event"("delivery_id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "delivery_event_delivery_id_source_status_key" ON "notification"."delivery_event"("delivery_id", "source", "status");

-- CreateIndex
CREATE UNIQUE INDEX "inbox_item_notification_id_key" ON "notification"."inbox_item"("notification_id");

-- CreateIndex
CREATE INDEX "inbox_item_patient_id_created_at_idx" ON "notification"."inbox_item"("patient_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "inbox_item_patient_id_idx" ON "notification"."inbox_item"("patient_id") WHERE (read_at IS NULL AND archived_at IS NULL);

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_id_key" ON "notification"."outbox_event"("id");

-- CreateIndex
CREATE INDEX "outbox_event_published_at_seq_idx" ON "notification"."outbox_event"("published_at", "seq");

-- CreateIndex
CREATE INDEX "inbox_event_processed_at_idx" ON "notification"."inbox_event"("processed_at");

-- CreateIndex
CREATE INDEX "idempotency_record_created_at_idx" ON "notification"."idempotency_record"("created_at");

-- AddForeignKey
ALTER TABLE "notification"."delivery" ADD CONSTRAINT "delivery_notification_id_fkey" FOREIGN KEY ("notification_id") REFERENCES "notification"."notification"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "notification"."delivery_event" ADD CONSTRAINT "delivery_event_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "notification"."delivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;
