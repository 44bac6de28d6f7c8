-- expect: none
-- A new, empty table referencing an old one validates nothing.
CREATE TABLE payments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id)
);
