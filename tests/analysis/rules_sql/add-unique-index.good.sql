-- Near misses: a unique index on a table created in this file (nobody writes to it
-- yet), and a plain (non-unique) index built concurrently.
CREATE TABLE "customer_aliases" ("id" bigint PRIMARY KEY, "email" text NOT NULL);
CREATE UNIQUE INDEX "customer_aliases_email_uniq" ON "customer_aliases" ("email");
CREATE INDEX CONCURRENTLY "customers_email_idx" ON "customers" ("email");
