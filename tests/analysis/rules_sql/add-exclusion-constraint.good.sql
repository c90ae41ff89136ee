-- Near miss: the EXCLUDE constraint is added to a table created in this file.
CREATE TABLE "room_holds" ("room" int NOT NULL, "during" tstzrange NOT NULL);
ALTER TABLE "room_holds" ADD CONSTRAINT "no_overlap" EXCLUDE USING gist ("room" WITH =, "during" WITH &&);
