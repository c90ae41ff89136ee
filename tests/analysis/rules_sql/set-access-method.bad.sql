ALTER TABLE "events" SET ACCESS METHOD "columnar";
