-- expect: constraint-not-valid
-- ADD CHECK scans the table under ACCESS EXCLUSIVE.
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
