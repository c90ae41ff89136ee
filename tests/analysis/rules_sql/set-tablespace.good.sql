-- Near miss: the table is created in this file (empty, unused).
CREATE TABLE "event_archive" ("id" bigint PRIMARY KEY);
ALTER TABLE "event_archive" SET TABLESPACE "pg_default";
