-- expect: none
-- A partial index built concurrently.
-- cairn: no-transaction
CREATE INDEX CONCURRENTLY orders_open_idx ON orders (created_at) WHERE status = 'open';
