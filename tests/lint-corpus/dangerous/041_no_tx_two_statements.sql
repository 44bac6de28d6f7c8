-- expect: no-transaction-multiple
-- Each statement of a no-transaction file commits alone.
-- cairn: no-transaction
CREATE INDEX CONCURRENTLY a_idx ON orders (a);
CREATE INDEX CONCURRENTLY b_idx ON orders (b);
