"""Models of the governance area."""

from __future__ import annotations

__all__: list[str] = []
