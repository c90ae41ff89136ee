"""Rehearsals on a disposable copy of staging: copy, migrate, EXPLAIN ANALYZE, compare."""
