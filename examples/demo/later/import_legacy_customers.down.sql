DELETE FROM customers
 WHERE email IN ('alan@example.com', 'barbara.example.com');
