-- lint: --assume-in-transaction
ALTER TABLE orders ADD COLUMN note text;
