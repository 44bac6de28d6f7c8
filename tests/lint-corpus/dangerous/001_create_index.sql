-- expect: index-not-concurrent
-- CREATE INDEX takes SHARE on the table: writes wait for the build.
CREATE INDEX orders_customer_id ON orders (customer_id);
