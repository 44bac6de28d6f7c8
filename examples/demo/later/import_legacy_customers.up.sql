-- Bob (draft, never committed): customers exported from the old shop.
-- One address is broken, and the customers-have-emails gate catches it
-- inside this migration's transaction.
INSERT INTO customers (name, email) VALUES
    ('Alan Turing', 'alan@example.com'),
    ('Barbara Liskov', 'barbara.example.com');
