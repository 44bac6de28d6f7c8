-- expect: transaction-control
-- cairn runs each migration in its own transaction.
BEGIN;
ALTER TABLE users ADD COLUMN nickname text;
COMMIT;
