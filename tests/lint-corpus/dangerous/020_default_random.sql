-- expect: volatile-default
-- random() is volatile: the table is rewritten.
ALTER TABLE experiments ADD COLUMN bucket float8 DEFAULT random();
