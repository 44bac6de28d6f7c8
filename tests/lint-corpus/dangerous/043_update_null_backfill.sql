-- expect: unbatched-backfill
-- An IS NULL backfill touches every row in one transaction.
UPDATE orders SET currency = 'EUR' WHERE currency IS NULL;
