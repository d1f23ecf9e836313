-- DropForeignKey
ALTER TABLE "dead_letter"."letter_view" DROP CONSTRAINT "letter_view_letter_id_fkey";
