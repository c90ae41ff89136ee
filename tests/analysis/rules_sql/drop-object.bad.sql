-- The running release's reports read this view.
DROP VIEW "order_totals";
