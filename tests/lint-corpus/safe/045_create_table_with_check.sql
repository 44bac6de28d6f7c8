-- expect: none
-- Constraints on a new table check nothing old.
CREATE TABLE prices (
  id bigint PRIMARY KEY,
  amount numeric NOT NULL CHECK (amount >= 0),
  currency text NOT NULL DEFAULT 'EUR'
);
