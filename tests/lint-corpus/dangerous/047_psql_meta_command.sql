-- expect: syntax-error
-- A psql meta-command is not SQL.
\set ON_ERROR_STOP on
CREATE TABLE widgets (id bigint);
