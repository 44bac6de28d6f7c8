-- expect: none
-- A BEGIN ATOMIC body is one statement.
CREATE FUNCTION add_one(i bigint) RETURNS bigint LANGUAGE sql
BEGIN ATOMIC
  SELECT i + 1;
END;
