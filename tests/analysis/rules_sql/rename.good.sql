ALTER TABLE "orders" ADD COLUMN "total_amount" numeric(12, 2) NULL;
