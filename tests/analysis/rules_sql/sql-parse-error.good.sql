-- Near misses that do parse: a keyword as a quoted column name, semicolons inside a
-- dollar-quoted body.
ALTER TABLE orders ADD COLUMN "order" text;
DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;
