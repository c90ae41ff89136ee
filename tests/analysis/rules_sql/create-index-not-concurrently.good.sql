CREATE INDEX CONCURRENTLY "orders_status_idx" ON "orders" ("status");
-- a new table is not hot
CREATE TABLE fresh (id bigint PRIMARY KEY, a int);
CREATE INDEX fresh_a_idx ON fresh (a);
