"""Rules of the `locks` category, one module per rule id."""
