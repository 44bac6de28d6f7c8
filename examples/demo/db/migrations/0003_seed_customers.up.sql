-- Bob: a few customers and orders to develop against.
INSERT INTO customers (name, email) VALUES
    ('Ada Lovelace', 'ada@example.com'),
    ('Grace Hopper', 'grace@example.com'),
    ('Edsger Dijkstra', 'edsger@example.com');

INSERT INTO orders (customer_id, total_cents)
SELECT id, 1999 FROM customers WHERE email = 'ada@example.com'
UNION ALL
SELECT id, 4250 FROM customers WHERE email = 'grace@example.com';
