-- Near miss: the file does not run inside a transaction (atomic = False), so its own
-- BEGIN / COMMIT are the transaction.
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
