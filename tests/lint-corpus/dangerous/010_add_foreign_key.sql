-- expect: constraint-not-valid
-- ADD FOREIGN KEY checks every row under SHARE ROW EXCLUSIVE on both tables.
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
