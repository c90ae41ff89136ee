-- lint: --assume-in-transaction
ALTER TABLE "orders" ADD COLUMN "ref" text NULL;
CREATE INDEX "orders_ref_idx" ON "orders" ("ref");
