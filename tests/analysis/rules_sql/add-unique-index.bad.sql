-- The build keeps writes flowing, but duplicates fail it and the new uniqueness
-- rejects the running release's duplicate writes.
CREATE UNIQUE INDEX CONCURRENTLY "customers_email_uniq" ON "customers" ("email");
