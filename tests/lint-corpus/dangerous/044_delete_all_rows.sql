-- expect: unbatched-backfill
-- DELETE of every row locks them all and bloats the table.
DELETE FROM page_views;
