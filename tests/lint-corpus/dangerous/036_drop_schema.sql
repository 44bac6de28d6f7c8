-- expect: destructive
-- DROP SCHEMA CASCADE deletes everything in it.
DROP SCHEMA reporting CASCADE;
