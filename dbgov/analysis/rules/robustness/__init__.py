"""Rules of the `robustness` category, one module per rule id."""
