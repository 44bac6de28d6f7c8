-- expect: unique-without-index
-- ADD EXCLUDE builds a GiST index under ACCESS EXCLUSIVE.
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
