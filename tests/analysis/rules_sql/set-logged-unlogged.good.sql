-- Near miss: the table is created in this file (empty, unused).
CREATE TABLE "scratch" ("id" bigint);
ALTER TABLE "scratch" SET UNLOGGED;
