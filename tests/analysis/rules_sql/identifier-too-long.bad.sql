CREATE INDEX CONCURRENTLY orders_customer_id_created_at_status_currency_shipping_country_idx ON orders (customer_id, created_at, status, currency, shipping_country);
