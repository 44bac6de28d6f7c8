-- expect: index-not-concurrent
-- A partial index still blocks writes while built.
CREATE INDEX orders_open_idx ON shop.orders (created_at) WHERE status = 'open';
