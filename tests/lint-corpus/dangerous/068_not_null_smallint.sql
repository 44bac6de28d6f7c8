-- expect: not-null-without-default
-- NOT NULL without DEFAULT fails when rows exist.
ALTER TABLE ONLY public.products ADD COLUMN IF NOT EXISTS rank smallint NOT NULL;
