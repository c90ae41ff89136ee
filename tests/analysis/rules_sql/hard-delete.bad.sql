DELETE FROM customers WHERE id = 42;
