"""Rules of the `analysis` category, one module per rule id."""
