-- Near miss: the table is created in this file, so no running code reads the column.
CREATE TABLE "product_import" ("id" bigint PRIMARY KEY, "legacy_code" text);
ALTER TABLE "product_import" DROP COLUMN "legacy_code";
