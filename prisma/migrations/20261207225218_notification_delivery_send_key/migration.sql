-- AlterTable
ALTER TABLE "notification"."delivery" ADD COLUMN     "send_key" UUID;
