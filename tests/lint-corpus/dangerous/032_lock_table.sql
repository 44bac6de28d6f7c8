-- expect: lock-table
-- LOCK TABLE defaults to ACCESS EXCLUSIVE until the end of the transaction.
LOCK TABLE accounts;
UPDATE accounts SET balance = 0 WHERE id = 1;
