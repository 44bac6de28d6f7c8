-- Rows returned here are integrity problems: addresses without an '@'.
SELECT id, name, email
  FROM customers
 WHERE email NOT LIKE '%_@_%';
