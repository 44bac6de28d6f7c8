-- expect: alter-column-type
-- SET DATA TYPE is ALTER COLUMN TYPE.
ALTER TABLE orders ALTER COLUMN id SET DATA TYPE bigint;
