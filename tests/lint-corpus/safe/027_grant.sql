-- expect: none
-- GRANT is a catalog change.
GRANT SELECT ON users TO reporting;
