-- expect: validate-same-transaction
-- VALIDATE right after ADD ... NOT VALID keeps ACCESS EXCLUSIVE during the scan.
ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_age_check;
