ALTER TABLE orders ADD COLUMN currency varchar(3) DEFAULT 'EUR' NOT NULL;
