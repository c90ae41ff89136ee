"""Models of the seeds area."""

from __future__ import annotations

__all__: list[str] = []
