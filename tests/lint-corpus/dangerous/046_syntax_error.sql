-- expect: syntax-error
-- The grammar rejects CREAT.
CREAT TABLE widgets (id bigint);
