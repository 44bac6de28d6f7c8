-- expect: volatile-default
-- A volatile default rewrites the table.
ALTER TABLE users ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
