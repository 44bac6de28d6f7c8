-- expect: destructive
-- DROP TABLE deletes the data (ACCESS EXCLUSIVE).
DROP TABLE invoices;
