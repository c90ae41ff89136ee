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
    "Comparison",
    "ExplainResult",
    "PlanRow",
    "compare",
    "format_ms",
    "parse_explain",
    "plan_rows",
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
    )


def run_explain(
    alias: str, query: Query, *, warmup: int | None = None, runs: int | None = None
) -> ExplainResult:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ``query`` on ``alias``, rolled back.

    Runs ``warmup`` discarded times, then ``runs`` measured times and keeps the fastest
    (DBGOV["EXPLAIN_WARMUP_RUNS"] / ["EXPLAIN_RUNS"]). Never raises for a failing
    query: the result says ``ok=False`` and why.
    """
    _guard(alias)
    timeout_ms = int(dbgov_settings.EXPLAIN_STATEMENT_TIMEOUT_MS)
    warmup = max(0, int(dbgov_settings.EXPLAIN_WARMUP_RUNS if warmup is None else warmup))
    runs = max(1, int(dbgov_settings.EXPLAIN_RUNS if runs is None else runs))
    connection = connections[alias]
    sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query.sql
    params = dict(query.params) or None
    best: ExplainResult | None = None
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
            result = parse_explain(document)
            if best is None or (result.execution_ms or 0.0) < (best.execution_ms or 0.0):
                best = result
    except DatabaseError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        cause = getattr(exc, "__cause__", None)
        sqlstate = getattr(cause, "sqlstate", None)
        if sqlstate == "57014":
            message = f"statement_timeout ({timeout_ms} ms) exceeded: {message}"
        return ExplainResult(ok=False, error=message)
    assert best is not None
    return best


# Comparison --------------------------------------------------------------------


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


def _short_access(result: ExplainResult) -> str:
    # "Index Scan using shop_orders_user_history_idx" -> "Index Scan"; the index is
    # shown in the plan tree, the verdict stays one line.
    first = result.access_path.split(", ")[0]
    return first.split(" using ")[0] if first else result.top_node


@dataclass
class Comparison:
    regression: bool
    over_budget: bool
    verdict: str
    reasons: list[str] = field(default_factory=list)


def compare(before: ExplainResult, after: ExplainResult) -> Comparison:
    """Before vs after: a one-line verdict, regressions and the OLTP budget."""
    budget = float(dbgov_settings.OLTP_BUDGET_MS)
    if not after.ok:
        return Comparison(False, False, f"after failed: {after.error}")
    over = after.over_budget
    if not before.ok:
        verdict = f"{_short_access(after)}, {format_ms(after.execution_ms)} (before failed)"
        if over:
            verdict += f" — over the {format_ms(budget)} OLTP budget"
        return Comparison(False, over, verdict)
    reasons: list[str] = []
    b, a = before.execution_ms or 0.0, after.execution_ms or 0.0
    if a > b * float(dbgov_settings.REGRESSION_FACTOR) and a - b >= float(
        dbgov_settings.REGRESSION_MIN_MS
    ):
        reasons.append(f"slower: {format_ms(b)} → {format_ms(a)}")
    lost = [i for i in before.indexes_used if i not in after.indexes_used]
    if lost and not after.indexes_used:
        reasons.append(f"no longer uses {', '.join(lost)}")
    regression = bool(reasons)
    same = _short_access(before) == _short_access(after)
    path = _short_access(after) if same else f"{_short_access(before)} → {_short_access(after)}"
    verdict = f"{path}, {format_ms(b)} → {format_ms(a)}"
    if regression:
        verdict += " — REGRESSION (" + "; ".join(reasons) + ")"
    if over:
        verdict += f" — over the {format_ms(budget)} OLTP budget"
    return Comparison(regression, over, verdict, reasons)


# Plan tree rows for display ------------------------------------------------------


@dataclass
class PlanRow:
    depth: int
    node_type: str
    detail: str
    estimated_rows: float | None
    actual_rows: float | None
    loops: int
    total_ms: float | None  # inclusive, all loops
    self_ms: float | None  # exclusive, all loops
    shared_hit: int | None
    shared_read: int | None
    slowest: bool = False

    @property
    def misestimate(self) -> float | None:
        """How far off the estimate was (x times), for rows that both exist."""
        if not self.estimated_rows or self.actual_rows is None:
            return None
        est, act = self.estimated_rows, max(self.actual_rows, 1.0)
        return max(est, act) / max(min(est, act), 1.0)


def _node_detail(node: dict[str, Any]) -> str:
    parts = []
    if node.get("Relation Name"):
        parts.append(f"on {node['Relation Name']}")
    if node.get("Index Name"):
        parts.append(f"using {node['Index Name']}")
    for key in ("Index Cond", "Filter", "Sort Key", "Hash Cond", "Join Filter"):
        if node.get(key):
            value = node[key]
            parts.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    return " · ".join(parts)


def plan_rows(document: Any) -> list[PlanRow]:
    """Flatten a plan into display rows with per-node exclusive time; mark the slowest."""
    if not document:
        return []
    rows: list[PlanRow] = []

    def inclusive(node: dict[str, Any]) -> float | None:
        t = node.get("Actual Total Time")
        if t is None:
            return None
        return float(t) * int(node.get("Actual Loops") or 1)

    def visit(node: dict[str, Any], depth: int) -> None:
        total = inclusive(node)
        children = node.get("Plans", []) or []
        child_total = sum(
            inclusive(c) or 0.0
            for c in children
            if c.get("Parent Relationship") not in {"InitPlan", "SubPlan"}
        )
        self_ms = None if total is None else max(total - child_total, 0.0)
        loops = int(node.get("Actual Loops") or 1)
        actual = node.get("Actual Rows")
        kind = node.get("Node Type", "?")
        if node.get("Parallel Aware"):
            kind = f"Parallel {kind}"
        rows.append(
            PlanRow(
                depth=depth,
                node_type=kind,
                detail=_node_detail(node),
                estimated_rows=node.get("Plan Rows"),
                actual_rows=None if actual is None else float(actual) * loops,
                loops=loops,
                total_ms=total,
                self_ms=self_ms,
                shared_hit=node.get("Shared Hit Blocks"),
                shared_read=node.get("Shared Read Blocks"),
            )
        )
        for child in children:
            visit(child, depth + 1)

    visit(document[0]["Plan"], 0)
    timed = [r for r in rows if r.self_ms is not None]
    if timed:
        max(timed, key=lambda r: r.self_ms or 0.0).slowest = True
    return rows
