"""A test-only app (installed in the test worker only) whose migration fails on the copy."""
