-- expect: none
-- Inserting a few rows.
INSERT INTO countries (code, name) VALUES ('FR', 'France'), ('DE', 'Germany');
