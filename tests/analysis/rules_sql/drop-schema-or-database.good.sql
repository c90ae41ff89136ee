-- Near miss: a schema created in this file holds nothing of the running release.
CREATE SCHEMA IF NOT EXISTS "import_scratch";
DROP SCHEMA "import_scratch";
