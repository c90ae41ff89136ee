"""Shared test fixtures. Areas add their own in tests/<area>/conftest.py."""
