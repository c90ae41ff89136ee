ALTER TABLE "products" ADD COLUMN "code" text NULL;
