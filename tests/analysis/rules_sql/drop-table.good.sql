-- Near miss: a scratch table created and dropped in the same file holds no live data.
CREATE TABLE "import_batch" ("id" bigint PRIMARY KEY, "payload" jsonb);
DROP TABLE "import_batch";
