-- Near miss: TRUNCATE of a table created in this file (nothing in it yet).
CREATE TABLE "import_batch" ("id" bigint PRIMARY KEY, "payload" jsonb);
TRUNCATE "import_batch";
