ALTER TABLE order_items ADD COLUMN quantity_big bigint;
