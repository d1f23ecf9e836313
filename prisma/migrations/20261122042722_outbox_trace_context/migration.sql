-- The trace context active when an event was emitted, so the publisher (later, maybe in another process)
-- continues the patient action's trace. Nullable: rows written with tracing off, and every row before this.
-- AlterTable
ALTER TABLE "booking_queue"."outbox_event" ADD COLUMN     "traceparent" TEXT,
ADD COLUMN     "tracestate" TEXT;
