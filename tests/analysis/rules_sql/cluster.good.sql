-- Near miss: CLUSTER of a table created in this file (empty, unused).
CREATE TABLE "event_archive" ("id" bigint PRIMARY KEY, "payload" jsonb);
CLUSTER "event_archive" USING "event_archive_pkey";
