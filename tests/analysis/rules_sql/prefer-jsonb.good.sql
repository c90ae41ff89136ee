ALTER TABLE orders ADD COLUMN meta jsonb;
