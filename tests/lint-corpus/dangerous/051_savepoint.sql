-- expect: transaction-control
-- SAVEPOINT controls cairn's transaction.
SAVEPOINT before_change;
ALTER TABLE users ADD COLUMN bio text;
RELEASE SAVEPOINT before_change;
