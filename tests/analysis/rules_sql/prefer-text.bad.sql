ALTER TABLE orders ADD COLUMN note varchar(200);
