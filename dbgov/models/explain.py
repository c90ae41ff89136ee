"""Models of the explain area."""

from __future__ import annotations

__all__: list[str] = []
