-- expect: vacuum-full
-- VACUUM FULL rewrites the table under ACCESS EXCLUSIVE.
-- cairn: no-transaction
VACUUM FULL orders;
