-- expect: unbatched-backfill
-- A DELETE filtered only by IS NULL touches a large part of the table.
DELETE FROM sessions WHERE user_id IS NULL;
