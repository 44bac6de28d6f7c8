-- expect: none
-- Plain VACUUM blocks no reads or writes.
-- cairn: no-transaction
VACUUM (ANALYZE) orders;
