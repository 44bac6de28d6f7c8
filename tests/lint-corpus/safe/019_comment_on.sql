-- expect: none
-- COMMENT ON is a catalog change.
COMMENT ON TABLE users IS 'DROP TABLE users; is not run from here';
