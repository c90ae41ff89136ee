ALTER TABLE orders ADD COLUMN meta json;
