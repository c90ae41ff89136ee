"""dbgov: governance for Django migrations on PostgreSQL.

Public API (stable): the analysis entry points and result types. Everything else is
internal and may change between minor versions.
"""

from __future__ import annotations

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
