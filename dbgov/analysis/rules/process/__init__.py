"""Rules of the `process` category, one module per rule id."""
