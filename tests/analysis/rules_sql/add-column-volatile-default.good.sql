ALTER TABLE orders ADD COLUMN placed_at timestamptz DEFAULT now() NOT NULL;
