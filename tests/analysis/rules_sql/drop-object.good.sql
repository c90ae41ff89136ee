-- Near miss: ALTER TYPE that adds an attribute instead of dropping one.
ALTER TYPE "address" ADD ATTRIBUTE "zip" text;
