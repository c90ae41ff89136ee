CREATE UNLOGGED TABLE scratch (id bigint);
