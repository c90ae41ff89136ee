"""dbgov's models, one module per area; tables are named dbgov_*."""

from __future__ import annotations

from .explain import *  # noqa: F403
from .governance import *  # noqa: F403
from .seeds import *  # noqa: F403
from .seeds import SeedLoad
from .tasks import Task

__all__ = ["SeedLoad", "Task"]
