DELETE FROM orders
 WHERE customer_id IN (SELECT id FROM customers
                        WHERE email IN ('ada@example.com', 'grace@example.com',
                                        'edsger@example.com'));
DELETE FROM customers
 WHERE email IN ('ada@example.com', 'grace@example.com', 'edsger@example.com');
