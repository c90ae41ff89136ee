ALTER TABLE "customers" ADD CONSTRAINT "customers_email_uniq" UNIQUE USING INDEX "customers_email_uniq_idx";
