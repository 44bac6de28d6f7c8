-- expect: none
-- ANALYZE takes SHARE UPDATE EXCLUSIVE and blocks no writes.
ANALYZE orders;
