-- Near miss: renaming a column of a table created in this file.
CREATE TABLE "order_drafts" ("id" bigint PRIMARY KEY, "total" numeric(12, 2));
ALTER TABLE "order_drafts" RENAME COLUMN "total" TO "total_amount";
