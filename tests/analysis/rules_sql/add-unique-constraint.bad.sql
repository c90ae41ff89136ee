ALTER TABLE "customers" ADD CONSTRAINT "customers_email_uniq" UNIQUE ("email");
