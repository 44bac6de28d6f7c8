-- expect: set-logged
-- SET LOGGED rewrites the table and writes it all to WAL.
ALTER TABLE staging_rows SET LOGGED;
