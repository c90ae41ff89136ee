-- lint: --assume-in-transaction
ALTER TABLE "orders" ADD COLUMN "ref" text NULL;
CREATE INDEX "customers_ref_idx" ON "customers" ("ref");
