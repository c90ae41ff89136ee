ALTER TABLE orders ADD COLUMN currency varchar(3) NOT NULL;
