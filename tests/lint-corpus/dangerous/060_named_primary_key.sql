-- expect: unique-without-index
-- ADD CONSTRAINT ... PRIMARY KEY builds its index under ACCESS EXCLUSIVE.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
