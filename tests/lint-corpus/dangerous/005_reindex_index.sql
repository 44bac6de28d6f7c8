-- expect: reindex-not-concurrent
-- REINDEX INDEX takes ACCESS EXCLUSIVE on the index.
REINDEX INDEX orders_pkey;
