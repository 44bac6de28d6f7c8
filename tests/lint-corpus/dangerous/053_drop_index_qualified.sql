-- expect: drop-index-not-concurrent
-- DROP INDEX locks the table against reads.
DROP INDEX IF EXISTS billing.invoices_due_idx;
