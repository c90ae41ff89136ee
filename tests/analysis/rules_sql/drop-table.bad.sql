DROP TABLE "legacy_orders" CASCADE;
