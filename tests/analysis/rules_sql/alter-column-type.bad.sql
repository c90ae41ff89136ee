ALTER TABLE "order_items" ALTER COLUMN "quantity" TYPE bigint USING "quantity"::bigint;
