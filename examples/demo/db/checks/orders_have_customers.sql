-- Rows returned here are integrity problems: orders whose customer is gone.
SELECT o.id AS order_id, o.customer_id
  FROM orders o
  LEFT JOIN customers c ON c.id = o.customer_id
 WHERE c.id IS NULL;
