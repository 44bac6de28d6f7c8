-- expect: none
-- Dropping a function loses no data.
DROP FUNCTION IF EXISTS touch();
