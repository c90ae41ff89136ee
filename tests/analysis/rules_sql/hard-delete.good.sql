-- Near miss: rows deleted from a scratch table created in this file.
CREATE TABLE "import_batch" ("id" bigint PRIMARY KEY, "payload" jsonb);
DELETE FROM "import_batch" WHERE "payload" IS NULL;
