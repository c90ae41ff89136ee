-- lint: --assume-in-transaction
CREATE INDEX orders_status_idx ON fresh_table_in_tx (status);
