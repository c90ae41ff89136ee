-- Near miss: the view is created in this file, so no running code names it yet.
CREATE VIEW "order_totals" AS SELECT "customer_id", sum("total") AS "total" FROM "orders" GROUP BY "customer_id";
ALTER VIEW "order_totals" RENAME TO "order_sums";
