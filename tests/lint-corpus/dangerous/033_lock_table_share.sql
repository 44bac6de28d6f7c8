-- expect: lock-table
-- An explicit SHARE lock blocks writes until commit.
LOCK TABLE ledger IN SHARE MODE;
INSERT INTO ledger_snapshots SELECT now(), count(*) FROM ledger;
