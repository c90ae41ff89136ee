-- Existing rows are not checked, but every new INSERT/UPDATE is, from the commit on.
ALTER TABLE "orders" ADD CONSTRAINT "orders_total_positive" CHECK ("total" >= 0) NOT VALID;
