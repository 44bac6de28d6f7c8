-- expect: cluster
-- CLUSTER without a table rewrites every clustered table.
-- cairn: no-transaction
CLUSTER;
