-- expect: none
-- SET (fillfactor) takes SHARE UPDATE EXCLUSIVE.
ALTER TABLE orders SET (fillfactor = 90);
