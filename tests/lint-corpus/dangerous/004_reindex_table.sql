-- expect: reindex-not-concurrent
-- REINDEX blocks writes (SHARE on the table) and reads through the index.
REINDEX TABLE orders;
