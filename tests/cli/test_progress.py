"""Progress on stderr: neutral (never the error colour), a bar with counts on a terminal
for long runs, only the stage messages in logs and pipes."""

from __future__ import annotations

import io
from types import SimpleNamespace

from django.core.management.base import BaseCommand, OutputWrapper

from dbgov.analysis.progress import Step
from dbgov.cli.progress import StderrProgress, bar_line


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def command(stream: io.StringIO) -> SimpleNamespace:
    # Django colours stderr as ERROR by default: progress must not inherit it.
    wrapper = OutputWrapper(stream)
    wrapper.style_func = BaseCommand(force_color=True).style.ERROR
    return SimpleNamespace(stderr=wrapper)


def run(stream: io.StringIO, elapsed: float) -> str:
    clock = iter([0.0] + [elapsed] * 100)
    progress = StderrProgress(command(stream), now=lambda: next(clock))
    progress("rendering 3 migration(s)")
    for done in (1, 2, 3):
        progress(Step(f"shop.000{done}", done=done, total=3))
    progress("done")
    progress.close()
    return stream.getvalue()


def test_stage_messages_are_plain_and_steps_are_skipped_in_logs():
    out = run(io.StringIO(), elapsed=60)
    assert out == "rendering 3 migration(s)\ndone\n"
    assert "\x1b[" not in out


def test_a_long_run_on_a_terminal_draws_a_bar_with_counts():
    out = run(Terminal(), elapsed=60)
    assert "\x1b[" not in out
    assert out.startswith("rendering 3 migration(s)\n\r[")
    assert "] 1/3 shop.0001" in out and "] 3/3 shop.0003" in out
    assert out.endswith("\ndone\n")


def test_a_short_run_draws_no_bar():
    assert run(Terminal(), elapsed=0.5) == "rendering 3 migration(s)\ndone\n"


def test_bar_line_is_fixed_width():
    assert bar_line(0, 4, "a", width=4) == "[....] 0/4 " + "a".ljust(40)
    assert bar_line(2, 4, "b", width=4).startswith("[##..] 2/4 b")
    assert len(bar_line(1, 263, "x")) == len(bar_line(263, 263, "y" * 80))
