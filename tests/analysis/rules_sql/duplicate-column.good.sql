UPDATE orders SET status = 'paid', currency = 'EUR' WHERE id = 1;
