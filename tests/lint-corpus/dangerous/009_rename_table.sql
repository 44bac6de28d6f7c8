-- expect: rename-table
-- RENAME TO breaks queries of the running application.
ALTER TABLE accounts RENAME TO customers;
