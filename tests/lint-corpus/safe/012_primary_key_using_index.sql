-- expect: none
-- ADD PRIMARY KEY USING INDEX reuses an existing index.
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;
