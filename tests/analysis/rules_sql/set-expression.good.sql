-- lint: --pg-version 17
-- Near miss: the table is created in this file (empty, unused).
CREATE TABLE "quote_items" ("quantity" int, "unit_price" numeric, "line_total" numeric GENERATED ALWAYS AS ("quantity" * "unit_price") STORED);
ALTER TABLE "quote_items" ALTER COLUMN "line_total" SET EXPRESSION AS ("quantity" * "unit_price" * 1.2);
