-- expect: not-null-without-default constraint-not-valid
-- Both actions of one ALTER TABLE are checked.
ALTER TABLE orders
  ADD COLUMN region_id bigint NOT NULL,
  ADD CONSTRAINT orders_region_fk FOREIGN KEY (region_id) REFERENCES regions (id);
