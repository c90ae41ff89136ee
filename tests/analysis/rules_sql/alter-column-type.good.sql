-- Near miss: the type change is on a table created in this file (empty).
CREATE TABLE "order_item_drafts" ("id" bigint PRIMARY KEY, "quantity" integer NOT NULL);
ALTER TABLE "order_item_drafts" ALTER COLUMN "quantity" TYPE bigint USING "quantity"::bigint;
