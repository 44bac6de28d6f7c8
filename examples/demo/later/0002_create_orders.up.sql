-- Alice: orders, each placed by one customer.
CREATE TABLE orders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id),
    total_cents  integer NOT NULL CHECK (total_cents >= 0),
    placed_at    timestamptz NOT NULL DEFAULT now(),
    note         text
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
