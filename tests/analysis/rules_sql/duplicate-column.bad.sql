UPDATE orders SET status = 'paid', status = 'new' WHERE id = 1;
