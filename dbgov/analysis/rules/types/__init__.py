"""Rules of the `types` category, one module per rule id."""
