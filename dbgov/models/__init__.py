"""dbgov's models, one module per area; tables are named dbgov_*."""

from __future__ import annotations

from . import baseline, explain, governance, seeds, tasks
from .baseline import *  # noqa: F403
from .explain import *  # noqa: F403
from .governance import *  # noqa: F403
from .seeds import *  # noqa: F403
from .tasks import *  # noqa: F403

__all__ = [*tasks.__all__, *governance.__all__, *explain.__all__, *seeds.__all__, *baseline.__all__]
