-- Carol: where an order is in its life.
ALTER TABLE orders
    ADD COLUMN status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'paid', 'shipped', 'cancelled'));
