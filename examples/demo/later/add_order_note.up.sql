-- Bob: a free-text note on an order, for the support team.
ALTER TABLE orders ADD COLUMN note text;
