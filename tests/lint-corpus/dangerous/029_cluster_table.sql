-- expect: cluster
-- CLUSTER rewrites the table under ACCESS EXCLUSIVE.
CLUSTER orders USING orders_created_at_idx;
