"""Per-environment seed data: fixtures and volume generators, loaded all or nothing.

See docs/seeds.md. The public API: ``seed()``, ``seed_status()``, ``SeedError`` and,
for generator modules, ``GeneratorContext``.
"""

from __future__ import annotations

from .errors import SeedError
from .generators import GeneratorContext
from .service import FileResult, SeedReport, StatusEntry, seed, seed_status

__all__ = [
    "FileResult",
    "GeneratorContext",
    "SeedError",
    "SeedReport",
    "StatusEntry",
    "seed",
    "seed_status",
]
