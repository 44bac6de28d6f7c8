-- expect: destructive
-- DROP TABLE of several tables.
DROP TABLE IF EXISTS old_orders, old_invoices;
