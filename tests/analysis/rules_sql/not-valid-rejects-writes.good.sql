-- Near miss: NOT VALID on a table created in this file (no release writes to it yet).
CREATE TABLE "refunds" ("id" bigint PRIMARY KEY, "amount" numeric(12, 2) NOT NULL);
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_amount_positive" CHECK ("amount" > 0) NOT VALID;
