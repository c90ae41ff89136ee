"""Progress on stderr, in a neutral style: what a command is doing, never coloured as an
error. On a terminal, a long loop (over ``BAR_AFTER_S`` seconds) shows one self-updating
line with a bar and counts (``[#######.....] 120/263 shop.0042_x``); elsewhere (CI logs,
pipes) the counted steps are skipped and only the stage messages are printed.

Django's own helpers are enough for this (no extra dependency): stderr's
``OutputWrapper`` and its ``isatty()``.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["StderrProgress"]

BAR_AFTER_S = 2.0
BAR_WIDTH = 24


def _plain(text: str) -> str:
    return text


class StderrProgress:
    """A progress sink for the engine (``Callable[[str], None]``) writing to a command's stderr."""

    def __init__(self, cmd: Any, *, quiet: bool = False, now: Any = time.monotonic) -> None:
        self.stderr = cmd.stderr
        self.quiet = quiet
        self.tty = bool(self.stderr.isatty())
        self.now = now
        self.started = now()
        self.bar_open = False

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        total = getattr(message, "total", None)
        if total is None:
            self._end_bar()
            self.stderr.write(str(message), style_func=_plain)
            return
        if not self.tty or self.now() - self.started < BAR_AFTER_S:
            return
        done = int(getattr(message, "done", 0))
        self.stderr.write(
            "\r" + bar_line(done, int(total), str(message)), ending="", style_func=_plain
        )
        self.stderr.flush()
        self.bar_open = True
        if done >= total:
            self._end_bar()

    def _end_bar(self) -> None:
        if self.bar_open:
            self.stderr.write("", style_func=_plain)
            self.bar_open = False

    def close(self) -> None:
        self._end_bar()


def bar_line(done: int, total: int, what: str, width: int = BAR_WIDTH) -> str:
    """``[##########..............]  10/24 shop.0042_x`` (fixed width: no leftovers)."""
    filled = width * done // total if total else width
    counts = f"{done:>{len(str(total))}}/{total}"
    return f"[{'#' * filled}{'.' * (width - filled)}] {counts} {what[:40]:<40}"
