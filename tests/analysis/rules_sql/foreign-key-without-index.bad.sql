ALTER TABLE "order_items" ADD COLUMN "coupon_id" bigint NULL;
ALTER TABLE "order_items" ADD CONSTRAINT "oi_coupon_fk" FOREIGN KEY ("coupon_id") REFERENCES "coupons" ("id") NOT VALID;
