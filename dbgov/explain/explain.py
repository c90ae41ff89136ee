"""Run ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` on a copy, parse it, compare phases.

EXPLAIN ANALYZE executes the query, so it runs only on a dbgov copy of staging (or on
the staging alias itself), always inside a transaction that is rolled back and always
under ``SET LOCAL statement_timeout``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connections, transaction

from dbgov.conf import dbgov_settings

from .copy import NotStaging, is_copy_alias
from .patterns import Query

__all__ = [
    "ExplainResult",
    "Repetition",
    "format_ms",
    "parse_explain",
    "run_explain",
]

INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
SCAN_NODES = INDEX_NODES | {
    "Seq Scan",
    "Bitmap Heap Scan",
    "Tid Scan",
    "Tid Range Scan",
    "Sample Scan",
}


@dataclass
class Repetition:
    """One measured EXPLAIN ANALYZE of a query: its times, its work and its plan."""

    execution_ms: float
    planning_ms: float | None
    blocks: int | None
    plan: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "execution_ms": self.execution_ms,
            "planning_ms": self.planning_ms,
            "blocks": self.blocks,
            "plan": self.plan,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> Repetition:
        return cls(
            execution_ms=float(data.get("execution_ms") or 0.0),
            planning_ms=data.get("planning_ms"),
            blocks=data.get("blocks"),
            plan=data.get("plan"),
        )


@dataclass
class ExplainResult:
    """What one EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) says, or why it failed."""

    ok: bool
    error: str = ""
    plan: list[dict[str, Any]] | None = None
    planning_ms: float | None = None
    execution_ms: float | None = None
    top_node: str = ""
    access_path: str = ""
    indexes_used: list[str] = field(default_factory=list)
    seq_scans: list[str] = field(default_factory=list)
    estimated_rows: float | None = None
    actual_rows: float | None = None
    shared_hit_blocks: int | None = None
    shared_read_blocks: int | None = None
    temp_blocks: int | None = None
    # Every measured repetition, in the order run; the fields above describe the one
    # with the median execution time (not the fastest: that hides the noise).
    repetitions: list[Repetition] = field(default_factory=list)

    @property
    def timings(self) -> list[float]:
        """Execution time of every measured repetition (ms)."""
        if self.repetitions:
            return [r.execution_ms for r in self.repetitions]
        return [] if self.execution_ms is None else [self.execution_ms]

    @property
    def blocks(self) -> int | None:
        """Shared blocks hit or read plus temp blocks: the work done, which (unlike
        time on a shared copy) repeats from run to run."""
        if self.shared_hit_blocks is None and self.shared_read_blocks is None:
            return None
        return (
            (self.shared_hit_blocks or 0) + (self.shared_read_blocks or 0) + (self.temp_blocks or 0)
        )

    @property
    def over_budget(self) -> bool:
        return self.execution_ms is not None and self.execution_ms > dbgov_settings.OLTP_BUDGET_MS


def _guard(alias: str) -> None:
    if not (is_copy_alias(alias) or alias == dbgov_settings.STAGING_DATABASE):
        raise NotStaging(
            f"EXPLAIN ANALYZE executes the query: dbgov runs it only on a copy of the staging "
            f"alias {dbgov_settings.STAGING_DATABASE!r}; refusing alias {alias!r}."
        )


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []) or []:
        yield from _walk(child)


def _scan_label(node: dict[str, Any]) -> str:
    kind = node.get("Node Type", "?")
    if node.get("Parallel Aware"):
        kind = f"Parallel {kind}"
    if node.get("Index Name"):
        return f"{kind} using {node['Index Name']}"
    return kind


def parse_explain(document: Any) -> ExplainResult:
    """Summarise an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) document."""
    if isinstance(document, str):
        document = json.loads(document)
    root = document[0]
    top = root["Plan"]
    nodes = list(_walk(top))
    scans = [n for n in nodes if n.get("Node Type") in SCAN_NODES]
    # The access path: the scans that read tables, outermost first; a Bitmap Heap Scan
    # is named after its Bitmap Index Scan child.
    access = []
    for n in scans:
        if n.get("Node Type") == "Bitmap Index Scan":
            continue
        label = _scan_label(n)
        if n.get("Node Type") == "Bitmap Heap Scan":
            idx = [str(c["Index Name"]) for c in _walk(n) if c.get("Index Name")]
            label = f"Bitmap Heap Scan using {', '.join(idx)}" if idx else label
        access.append(label)
    indexes = []
    for n in nodes:
        if n.get("Node Type") in INDEX_NODES and n.get("Index Name") not in indexes:
            indexes.append(n["Index Name"])
    return ExplainResult(
        ok=True,
        plan=document,
        planning_ms=root.get("Planning Time"),
        execution_ms=root.get("Execution Time"),
        top_node=top.get("Node Type", ""),
        access_path=", ".join(access) or top.get("Node Type", ""),
        indexes_used=indexes,
        seq_scans=[n.get("Relation Name", "?") for n in nodes if n.get("Node Type") == "Seq Scan"],
        estimated_rows=top.get("Plan Rows"),
        actual_rows=(top.get("Actual Rows") or 0) * (top.get("Actual Loops") or 1),
        shared_hit_blocks=top.get("Shared Hit Blocks"),
        shared_read_blocks=top.get("Shared Read Blocks"),
        temp_blocks=(top.get("Temp Read Blocks") or 0) + (top.get("Temp Written Blocks") or 0),
    )


def run_explain(
    alias: str, query: Query, *, warmup: int | None = None, runs: int | None = None
) -> ExplainResult:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ``query`` on ``alias``, rolled back.

    Runs ``warmup`` discarded times, then ``runs`` measured times
    (DBGOV["EXPLAIN_WARMUP_RUNS"] / ["EXPLAIN_RUNS"]) and keeps every repetition; the
    result describes the median one, so a lucky fast run cannot hide the noise. Never
    raises for a failing query: the result says ``ok=False`` and why.
    """
    _guard(alias)
    timeout_ms = int(dbgov_settings.EXPLAIN_STATEMENT_TIMEOUT_MS)
    warmup = max(0, int(dbgov_settings.EXPLAIN_WARMUP_RUNS if warmup is None else warmup))
    runs = max(1, int(dbgov_settings.EXPLAIN_RUNS if runs is None else runs))
    connection = connections[alias]
    sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query.sql
    params = dict(query.params) or None
    measured: list[ExplainResult] = []
    try:
        for attempt in range(warmup + runs):
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [timeout_ms])
                try:
                    cursor.execute(sql, params)
                    document = cursor.fetchone()[0]
                finally:
                    # Data-modifying patterns must leave no trace: always roll back.
                    transaction.set_rollback(True, using=alias)
            if attempt < warmup:
                continue
            measured.append(parse_explain(document))
    except DatabaseError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        cause = getattr(exc, "__cause__", None)
        sqlstate = getattr(cause, "sqlstate", None)
        if sqlstate == "57014":
            message = f"statement_timeout ({timeout_ms} ms) exceeded: {message}"
        return ExplainResult(ok=False, error=message)
    ordered = sorted(measured, key=lambda r: r.execution_ms or 0.0)
    median = ordered[(len(ordered) - 1) // 2]
    median.repetitions = [
        Repetition(
            execution_ms=r.execution_ms or 0.0,
            planning_ms=r.planning_ms,
            blocks=r.blocks,
            plan=r.plan,
        )
        for r in measured
    ]
    return median


def format_ms(ms: float | None) -> str:
    if ms is None:
        return "?"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    if ms >= 1:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"
