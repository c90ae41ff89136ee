CREATE TABLE legacy_orders_archive (id bigint PRIMARY KEY);
