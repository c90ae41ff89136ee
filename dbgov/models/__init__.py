"""dbgov's models, one module per area; tables are named dbgov_*."""

from __future__ import annotations

from . import authors, baseline, explain, governance, integrity, seeds, tasks, throughput
from .authors import *  # noqa: F403
from .baseline import *  # noqa: F403
from .explain import *  # noqa: F403
from .governance import *  # noqa: F403
from .integrity import *  # noqa: F403
from .seeds import *  # noqa: F403
from .tasks import *  # noqa: F403
from .throughput import *  # noqa: F403

__all__ = [
    *tasks.__all__,
    *governance.__all__,
    *explain.__all__,
    *seeds.__all__,
    *throughput.__all__,
    *integrity.__all__,
    *authors.__all__,
    *baseline.__all__,
]
