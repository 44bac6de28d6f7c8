-- expect: unique-without-index
-- ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE.
ALTER TABLE legacy_events ADD PRIMARY KEY (id);
