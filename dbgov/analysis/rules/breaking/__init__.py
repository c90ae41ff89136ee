"""Rules of the `breaking` category, one module per rule id."""
