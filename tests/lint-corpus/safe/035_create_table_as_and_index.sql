-- expect: none
-- CREATE TABLE AS makes a new table.
CREATE TABLE order_archive AS SELECT * FROM orders WHERE created_at < '2020-01-01';
CREATE INDEX order_archive_id ON order_archive (id);
