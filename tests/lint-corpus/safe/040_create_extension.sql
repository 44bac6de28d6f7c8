-- expect: none
-- An extension.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
