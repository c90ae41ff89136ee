ALTER TABLE orders ADD COLUMN country varchar(2);
