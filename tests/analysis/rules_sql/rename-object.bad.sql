ALTER VIEW "order_totals" RENAME TO "order_sums";
