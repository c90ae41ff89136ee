"""Rules of the `conventions` category, one module per rule id."""
