-- lint: --assume-in-transaction
ALTER TABLE "shop_orders" ADD COLUMN "currency" varchar(3) DEFAULT 'EUR' NOT NULL;
ALTER TABLE "shop_orders" ALTER COLUMN "currency" DROP DEFAULT;
