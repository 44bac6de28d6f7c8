-- expect: enum-value-in-transaction
-- A new enum value cannot be used before the transaction commits.
ALTER TYPE order_status ADD VALUE 'refunded';
UPDATE orders SET status = 'refunded' WHERE id = 42;
