"""Rules of the `data` category, one module per rule id."""
