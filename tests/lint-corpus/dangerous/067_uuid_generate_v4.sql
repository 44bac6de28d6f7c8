-- expect: volatile-default
-- uuid_generate_v4() is volatile: rewrite.
ALTER TABLE devices ADD COLUMN token uuid NOT NULL DEFAULT uuid_generate_v4();
