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
from typing import Any

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


class _Tracker:
    """The migration being applied or unapplied, for the error message."""

    def __init__(self) -> None:
        self.current = ""

    def __call__(self, action: str, migration: Any = None, fake: bool | None = False, /) -> None:
        if action in ("apply_start", "unapply_start") and migration is not None:
            self.current = f"{migration.app_label}.{migration.name}"


@contextlib.contextmanager
def _sandbox_as(database: str, tracker: _Tracker) -> Iterator[MigrationExecutor]:
    """A migration executor on a fresh sandbox database standing in for ``database``."""
    connection = connections[database]
    version = connection.pg_version  # type: ignore[attr-defined]
    server = open_sandbox_server(database, version // 10000 if version else None)
    with run_database(server, alias=database, target_version=version, purpose="fix") as run:
        saved = connections[database]
        # RunPython code that asks for connections[alias] gets the sandbox, never the target.
        connections[database] = run.wrapper
        try:
            executor = MigrationExecutor(run.wrapper, progress_callback=tracker)
            yield executor
        finally:
            connections[database] = saved


STAGES = ("forwards", "backwards", "forwards again", "the later migrations of the app")


def round_trip(database: str, app_label: str, first_parent: str | None, last: str) -> list[str]:
    """Apply up to ``last``, unapply to ``first_parent`` (None: zero), apply again, then
    apply the app's later pending migrations (they may rely on what the original did)."""
    done: list[str] = []
    tracker = _Tracker()
    try:
        with _sandbox_as(database, tracker) as executor:
            for label in STAGES:
                executor.loader.build_graph()
                if label == "backwards":
                    targets = [(app_label, first_parent)]
                elif label == STAGES[-1]:
                    targets = [k for k in executor.loader.graph.leaf_nodes() if k[0] == app_label]
                else:
                    targets = [(app_label, last)]
                executor.migrate(targets)  # type: ignore[arg-type]
                done.append(label)
    except (SandboxError, AnalysisError) as exc:
        raise FixError(f"sandbox: {exc}") from exc
    except Exception as exc:
        stage = STAGES[len(done)]
        what = (
            "a later migration of the app fails after the rewrite"
            if stage == STAGES[-1]
            else f"the rewritten migrations fail {stage}"
        )
        where = f" in {tracker.current}" if tracker.current else ""
        raise FixError(f"{what} (in the sandbox){where}: {type(exc).__name__}: {exc}") from exc
    return done


def flagged_operations(database: str, app_label: str, name: str) -> set[int]:
    """Indexes of the operations of ``app_label.name`` that have findings to review
    (on a table created earlier in the same plan an index is safe, and stays as it is)."""
    try:
        plan = build_plan(database=database, selection="targets", targets=[(app_label, name)])
    except AnalysisError as exc:
        raise FixError(f"{app_label}.{name}: planning it failed: {exc}") from exc
    return {
        f.operation_index
        for f in plan.findings
        if f.app_label == app_label
        and f.migration == name
        and f.needs_review
        and f.operation_index is not None
    }
