"""Progress messages of the engine: plain strings, some carrying counts.

A ``Step`` is a ``str`` (so any ``Callable[[str], None]`` progress sink prints it) that
also says how far a long loop is (``done`` of ``total``); the command line draws those
as a progress bar on a terminal (dbgov.cli.progress) and skips them elsewhere."""

from __future__ import annotations

__all__ = ["Step"]


class Step(str):
    done: int
    total: int

    def __new__(cls, message: str, *, done: int, total: int) -> Step:
        step = super().__new__(cls, message)
        step.done, step.total = done, total
        return step
