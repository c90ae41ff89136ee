-- lint: --assume-in-transaction
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
