-- expect: unterminated
-- An unterminated string swallows the rest of the file.
INSERT INTO settings (k, v) VALUES ('mode', 'fast);
CREATE TABLE x (id bigint);
