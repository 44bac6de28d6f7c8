-- expect: index-not-concurrent
-- CREATE UNIQUE INDEX without CONCURRENTLY blocks writes (SHARE).
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
