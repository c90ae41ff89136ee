ALTER TABLE orders ADD COLUMN country char(2);
