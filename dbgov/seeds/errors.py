"""The one error a seed run raises: a message naming the file and the object."""

from __future__ import annotations

__all__ = ["SeedError"]


class SeedError(Exception):
    """An invalid seed or a refused run; nothing was loaded."""
