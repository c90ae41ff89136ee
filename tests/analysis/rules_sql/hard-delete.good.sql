UPDATE customers SET deleted_at = now() WHERE id = 42;
