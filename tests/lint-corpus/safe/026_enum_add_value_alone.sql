-- expect: none
-- ADD VALUE alone in its migration: the value is used after commit.
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';
