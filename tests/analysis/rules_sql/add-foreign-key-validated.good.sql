ALTER TABLE "order_items" ADD CONSTRAINT "oi_order_fk" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") NOT VALID;
