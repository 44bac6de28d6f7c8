-- expect: none
-- A CHECK added NOT VALID skips the scan.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
