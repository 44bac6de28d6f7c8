-- expect: unbatched-backfill
-- One UPDATE of every row locks them all until commit.
UPDATE users SET locale = 'en';
