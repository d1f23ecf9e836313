-- Each system owns a PostgreSQL schema. Tables and enums move with SET SCHEMA, which keeps every row and
-- takes the indexes, constraints and owned sequences along: nothing is dropped or copied. The old names are
-- left unqualified: they resolve where the first migration created them (the connection's schema).

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "booking_queue";

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "dead_letter";

-- MoveEnum
ALTER TYPE "slot_status" SET SCHEMA "booking_queue";
ALTER TYPE "booking_status" SET SCHEMA "booking_queue";
ALTER TYPE "lane" SET SCHEMA "booking_queue";
ALTER TYPE "ticket_status" SET SCHEMA "booking_queue";

-- MoveTable
ALTER TABLE "branch" SET SCHEMA "booking_queue";
ALTER TABLE "service" SET SCHEMA "booking_queue";
ALTER TABLE "slot" SET SCHEMA "booking_queue";
ALTER TABLE "booking" SET SCHEMA "booking_queue";
ALTER TABLE "ticket" SET SCHEMA "booking_queue";
ALTER TABLE "outbox_event" SET SCHEMA "booking_queue";
ALTER TABLE "inbox_event" SET SCHEMA "booking_queue";
ALTER TABLE "dead_letter" SET SCHEMA "dead_letter";
