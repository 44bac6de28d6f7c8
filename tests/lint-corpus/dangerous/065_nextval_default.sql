-- expect: volatile-default
-- nextval() is volatile: every row gets its own value.
ALTER TABLE invoices ADD COLUMN number bigint DEFAULT nextval('invoice_numbers');
