-- expect: none
-- A new enum type.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
