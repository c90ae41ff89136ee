"""Rules of the `reversibility` category, one module per rule id."""
