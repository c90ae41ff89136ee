-- Near miss: the table is created in this file, so no running code reads the column.
CREATE TABLE "order_drafts" ("id" bigint PRIMARY KEY, "currency" text NOT NULL);
ALTER TABLE "order_drafts" ALTER COLUMN "currency" DROP NOT NULL;
