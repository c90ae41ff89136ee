-- lint: --pg-version 17
ALTER TABLE "order_items" ALTER COLUMN "line_total" SET EXPRESSION AS ("quantity" * "unit_price" * 1.2);
