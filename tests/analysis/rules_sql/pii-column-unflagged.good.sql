ALTER TABLE "shop_orders" ADD COLUMN "billing_email" varchar(254) NULL;
COMMENT ON COLUMN "shop_orders"."billing_email" IS 'PII: billing contact';
