-- expect: none
-- A new sequence.
CREATE SEQUENCE IF NOT EXISTS invoice_numbers START 1000;
