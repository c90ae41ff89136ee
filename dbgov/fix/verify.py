"""Verified, not assumed: what ``fix`` wrote is planned again and run in the sandbox.

- The engine plans the new migrations (``build_plan``): every finding that needs review
  is either one the pattern expects (and says why) or a failure of the fix.
- In a disposable sandbox database (no data, never the target), the new migrations are
  applied forwards, backwards to where the original started, and forwards again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from ..analysis.engine import build_plan
from ..analysis.errors import AnalysisError
from ..analysis.model import Finding
from ..sandbox import SandboxError, open_sandbox_server, run_database
from .steps import FixError

__all__ = ["Remaining", "replan", "round_trip"]


@dataclass(frozen=True)
class Remaining:
    """A finding still on a written migration; ``why`` is None when nobody expected it."""

    finding: Finding
    why: str | None


def replan(
    database: str, app_label: str, last: str, names: set[str], expected: dict[str, str]
) -> list[Remaining]:
    try:
        plan = build_plan(database=database, selection="targets", targets=[(app_label, last)])
    except AnalysisError as exc:
        raise FixError(f"planning the rewritten migrations failed: {exc}") from exc
    return [
        Remaining(f, expected.get(f.rule_id))
        for f in plan.findings
        if f.app_label == app_label and f.migration in names and f.needs_review
    ]


@contextlib.contextmanager
def _sandbox_as(database: str) -> Iterator[MigrationExecutor]:
    """A migration executor on a fresh sandbox database standing in for ``database``."""
    connection = connections[database]
    version = connection.pg_version  # type: ignore[attr-defined]
    server = open_sandbox_server(database, version // 10000 if version else None)
    with run_database(server, alias=database, target_version=version, purpose="fix") as run:
        saved = connections[database]
        # RunPython code that asks for connections[alias] gets the sandbox, never the target.
        connections[database] = run.wrapper
        try:
            yield MigrationExecutor(run.wrapper)
        finally:
            connections[database] = saved


def round_trip(database: str, app_label: str, first_parent: str | None, last: str) -> list[str]:
    """Apply up to ``last``, unapply to ``first_parent`` (None: zero), apply again."""
    done: list[str] = []
    try:
        with _sandbox_as(database) as executor:
            for label, target in (
                ("forwards", (app_label, last)),
                ("backwards", (app_label, first_parent)),
                ("forwards again", (app_label, last)),
            ):
                executor.loader.build_graph()
                executor.migrate([target])  # type: ignore[list-item]
                done.append(label)
    except (SandboxError, AnalysisError) as exc:
        raise FixError(f"sandbox: {exc}") from exc
    except Exception as exc:
        step = ["forwards", "backwards", "forwards again"][len(done)]
        raise FixError(
            f"the rewritten migrations fail {step} in the sandbox: {type(exc).__name__}: {exc}"
        ) from exc
    return done
