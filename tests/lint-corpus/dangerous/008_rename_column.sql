-- expect: rename-column
-- RENAME COLUMN breaks queries of the running application.
ALTER TABLE users RENAME COLUMN name TO full_name;
