ALTER TABLE "shop_orders" ADD COLUMN "billing_email" varchar(254) NULL;
