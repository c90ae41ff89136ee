"""Signal receivers; each area connects its own in its `signals` module."""

from __future__ import annotations

import contextlib
import importlib

# Areas are optional modules of this package; connecting them here keeps
# AppConfig.ready() to one import. A missing area module simply has no receivers.
for _area in ("governance.signals", "explain.signals", "seeds.signals"):
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(f"dbgov.{_area}")
