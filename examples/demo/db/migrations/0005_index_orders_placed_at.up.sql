-- cairn: no-transaction
-- Carol: CREATE INDEX CONCURRENTLY cannot run inside a transaction, so
-- this migration says so; cairn records it as running, then applied.
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);
