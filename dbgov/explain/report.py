"""The rehearsal report: what a reviewer needs from one run, as data, text, Markdown, JSON.

Per migration: its duration, each statement with its duration and the rows it changed,
the locks it held (table, mode, from when to when, sampled from pg_locks) as a
timeline, the database size change, and a warning for every statement over
DBGOV["STATEMENT_BUDGET_MS"]. Per query pattern: the verdict, the spread of the
repetitions and the buffers before and after. ``dbgov explain --show RUN --format
markdown`` prints it for a pull-request comment, the admin's run page shows it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from dbgov.conf import dbgov_settings
from dbgov.models import ExplainRun, MigrationRehearsal, QueryPlan

from .compare import Spread
from .explain import format_ms
from .plantree import plan_tree, text_tree

__all__ = [
    "LockSpan",
    "MigrationReport",
    "QueryReport",
    "RunReport",
    "StatementReport",
    "build_report",
    "format_bytes",
    "render_markdown",
    "render_text",
]

# Locks that block writers (SHARE and stronger) are what an outage is made of.
_BLOCKS_WRITES = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}


def format_bytes(n: int | None, *, signed: bool = False) -> str:
    if n is None:
        return "?"
    sign = ("+" if n > 0 else "−" if n < 0 else "±") if signed else ("-" if n < 0 else "")
    value = float(abs(n))
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{sign}{value:.0f} {unit}" if unit == "B" else f"{sign}{value:.1f} {unit}"
        value /= 1024
    return f"{sign}{value:.1f} TB"  # pragma: no cover


def mode_name(mode: str) -> str:
    """pg_locks' "ShareRowExclusiveLock" → the SQL name "SHARE ROW EXCLUSIVE"."""
    words: list[str] = []
    for ch in mode.removesuffix("Lock"):
        if ch.isupper() and words:
            words.append(" ")
        words.append(ch.upper())
    return "".join(words)


@dataclass
class StatementReport:
    sql: str
    ms: float
    at_ms: float | None
    rows: int | None
    over_budget: bool


@dataclass
class LockSpan:
    relation: str
    mode: str  # as PostgreSQL's docs name it: "ACCESS EXCLUSIVE"
    start_ms: float
    end_ms: float
    granted: bool
    blocks_writes: bool
    created_here: bool

    @property
    def held_ms(self) -> float:
        return max(self.end_ms - self.start_ms, 0.0)


@dataclass
class MigrationReport:
    key: str
    task_key: str
    status: str
    error: str
    duration_ms: float | None
    statements: list[StatementReport]
    locks: list[LockSpan]
    rows_changed: int | None
    size_before: int | None
    size_after: int | None
    warnings: list[str] = field(default_factory=list)

    @property
    def size_change(self) -> int | None:
        if self.size_before is None or self.size_after is None:
            return None
        return self.size_after - self.size_before


@dataclass
class QueryReport:
    name: str
    verdict: str
    regression: bool
    over_budget: bool
    error: str
    before_ms: list[float]
    after_ms: list[float]
    before_blocks: int | None
    after_blocks: int | None
    before_access: str
    after_access: str
    before_tree: str = ""
    after_tree: str = ""

    @property
    def before_spread(self) -> str:
        return Spread(tuple(self.before_ms)).text

    @property
    def after_spread(self) -> str:
        return Spread(tuple(self.after_ms)).text


@dataclass
class RunReport:
    run: int
    task: str
    task_title: str
    status: str
    error: str
    duration_ms: float | None
    copy_ms: float | None
    statement_budget_ms: float
    oltp_budget_ms: float
    lock_sample_ms: float
    table_rows: dict[str, int]
    migrations: list[MigrationReport]
    queries: list[QueryReport]

    @property
    def warnings(self) -> list[str]:
        out = [w for m in self.migrations for w in m.warnings]
        out += [f"{q.name}: {q.verdict}" for q in self.queries if q.regression or q.over_budget]
        return out

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = self.warnings
        for m, md in zip(self.migrations, data["migrations"], strict=True):
            md["size_change"] = m.size_change
            for lk, ld in zip(m.locks, md["locks"], strict=True):
                ld["held_ms"] = lk.held_ms
        return data


def _migration_report(m: MigrationRehearsal, budget: float) -> MigrationReport:
    statements = [
        StatementReport(
            sql=str(s.get("sql", "")),
            ms=float(s.get("ms") or 0.0),
            at_ms=s.get("at_ms"),
            rows=s.get("rows"),
            over_budget=float(s.get("ms") or 0.0) > budget,
        )
        for s in m.statements
    ]
    locks = [
        LockSpan(
            relation=str(lk.get("relation", "")),
            mode=mode_name(str(lk.get("mode", ""))),
            start_ms=float(lk.get("first_seen_ms") or 0.0),
            end_ms=float(lk.get("last_seen_ms", lk.get("first_seen_ms")) or 0.0),
            granted=bool(lk.get("granted", True)),
            blocks_writes=str(lk.get("mode", "")) in _BLOCKS_WRITES,
            created_here=bool(lk.get("created_here")),
        )
        for lk in m.locks
    ]
    locks.sort(key=lambda lk: (lk.start_ms, lk.relation, lk.mode))
    counted = [s.rows for s in statements if s.rows is not None]
    warnings = [
        f"{m.key}: statement {i} ran {format_ms(s.ms)} on the copy (budget {format_ms(budget)}): "
        f"{_one_line(s.sql, 80)}"
        for i, s in enumerate(statements, start=1)
        if s.over_budget
    ]
    warnings += [
        f"{m.key}: waited for {lk.mode} on {lk.relation}" for lk in locks if not lk.granted
    ]
    return MigrationReport(
        key=m.key,
        task_key=m.task_key,
        status=m.status,
        error=m.error,
        duration_ms=m.duration_ms,
        statements=statements,
        locks=locks,
        rows_changed=sum(counted) if counted else None,
        size_before=m.size_before,
        size_after=m.size_after,
        warnings=warnings,
    )


def _query_reports(plans: list[QueryPlan], *, trees: bool) -> list[QueryReport]:
    by_name: dict[str, dict[str, QueryPlan]] = {}
    for qp in plans:
        by_name.setdefault(qp.pattern_name, {})[qp.phase] = qp
    out = []
    for name, phases in sorted(by_name.items()):
        before, after = phases.get("before"), phases.get("after")

        def timings(p: QueryPlan | None) -> list[float]:
            if p is None:
                return []
            reps = [float(r["execution_ms"]) for r in p.repetitions if r.get("execution_ms")]
            return reps or ([p.execution_ms] if p.execution_ms is not None else [])

        def blocks(p: QueryPlan | None) -> int | None:
            if p is None or p.shared_hit_blocks is None:
                return None
            return (p.shared_hit_blocks or 0) + (p.shared_read_blocks or 0)

        def tree(p: QueryPlan | None) -> str:
            return text_tree(plan_tree(p.plan)) if trees and p is not None and p.plan else ""

        error = (before.error if before else "") or (after.error if after else "")
        out.append(
            QueryReport(
                name=name,
                verdict=(after.verdict if after else "") or error,
                regression=bool(after and after.regression),
                over_budget=bool(after and after.over_budget),
                error=error,
                before_ms=timings(before),
                after_ms=timings(after),
                before_blocks=blocks(before),
                after_blocks=blocks(after),
                before_access=before.access_path if before else "",
                after_access=after.access_path if after else "",
                before_tree=tree(before),
                after_tree=tree(after),
            )
        )
    out.sort(key=lambda q: (not q.regression, not q.over_budget, q.name))
    return out


def build_report(run: ExplainRun, *, trees: bool = True) -> RunReport:
    """The report of ``run`` (three queries whatever the number of migrations)."""
    budget = float(dbgov_settings.STATEMENT_BUDGET_MS)
    migrations = [
        _migration_report(m, budget)
        for m in MigrationRehearsal.objects.filter(run=run).order_by("order")
    ]
    plans = list(QueryPlan.objects.filter(run=run).order_by("pattern_name", "-phase"))
    return RunReport(
        run=run.pk,
        task=run.task.key,
        task_title=run.task.title,
        status=run.status,
        error=run.error,
        duration_ms=run.duration_ms,
        copy_ms=run.copy_ms,
        statement_budget_ms=budget,
        oltp_budget_ms=float(dbgov_settings.OLTP_BUDGET_MS),
        lock_sample_ms=float(dbgov_settings.LOCK_SAMPLE_INTERVAL_MS),
        table_rows=dict(run.table_rows or {}),
        migrations=migrations,
        queries=_query_reports(plans, trees=trees),
    )


# Rendering ---------------------------------------------------------------------------


def _one_line(sql: str, limit: int) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def timeline(lk: LockSpan, total_ms: float, width: int = 24) -> str:
    """The span of one lock over the migration's duration, as a bar of ``width``."""
    if total_ms <= 0:
        return "█" * width
    start = min(int(lk.start_ms / total_ms * width), width - 1)
    end = max(min(int(round(lk.end_ms / total_ms * width)), width), start + 1)
    return "·" * start + "█" * (end - start) + "·" * (width - end)


def render_text(report: RunReport) -> str:
    lines = [
        f"Rehearsal run {report.run} of {report.task} ({report.task_title}): {report.status}"
        + (f" in {format_ms(report.duration_ms)}" if report.duration_ms is not None else "")
    ]
    if report.error:
        lines.append(f"  error: {report.error}")
    for m in report.migrations:
        size = format_bytes(m.size_change, signed=True) if m.size_change is not None else "?"
        rows = "" if m.rows_changed is None else f", {m.rows_changed:,} rows changed"
        lines.append(
            f"  migration {m.key}: {m.status}, {format_ms(m.duration_ms)}{rows}, "
            f"database size {size}"
        )
        for i, s in enumerate(m.statements, start=1):
            flag = "  OVER BUDGET" if s.over_budget else ""
            count = "" if s.rows is None else f", {s.rows:,} rows"
            lines.append(f"    {i:>2}. {format_ms(s.ms):>8}{count}  {_one_line(s.sql, 90)}{flag}")
        for lk in m.locks:
            lines.append(
                f"    lock {timeline(lk, m.duration_ms or 0.0)} {lk.mode} on {lk.relation} "
                f"{lk.start_ms:.0f}–{lk.end_ms:.0f} ms" + ("" if lk.granted else " (waited)")
            )
    for q in report.queries:
        mark = "REGRESSION " if q.regression else ""
        lines.append(f"  {mark}{q.name}: {q.verdict}")
        lines.append(f"    before {q.before_spread}; after {q.after_spread}")
        for label, tree in (("before", q.before_tree), ("after", q.after_tree)):
            if tree:
                lines.append(f"    plan {label}:")
                lines += [f"      {line}" for line in tree.splitlines()]
    if report.warnings:
        lines.append("Warnings:")
        lines += [f"  - {w}" for w in report.warnings]
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: RunReport) -> str:
    """GitHub-flavoured Markdown for a pull-request comment."""
    icon = {"succeeded": "✅", "failed": "❌"}.get(report.status, "⏳")
    out = [
        f"### {icon} dbgov rehearsal of {report.task}: {report.status}",
        "",
        f"{_md_cell(report.task_title)} · run {report.run}"
        + (f" · {format_ms(report.duration_ms)}" if report.duration_ms is not None else "")
        + (
            " · on a copy with "
            + ", ".join(f"`{t}` {n:,} rows" for t, n in sorted(report.table_rows.items()))
            if report.table_rows
            else ""
        ),
        "",
    ]
    if report.error:
        out += [f"> **Error:** {_md_cell(report.error)}", ""]
    if report.warnings:
        out += ["**Warnings**", ""] + [f"- ⚠️ {_md_cell(w)}" for w in report.warnings] + [""]
    if report.queries:
        out += [
            "| Query | Verdict | Before | After |",
            "|---|---|---|---|",
        ]
        for q in report.queries:
            name = f"**{_md_cell(q.name)}**" + (" 🔺" if q.regression else "")
            out.append(f"| {name} | {_md_cell(q.verdict)} | {q.before_spread} | {q.after_spread} |")
        out.append("")
    for m in report.migrations:
        rows = "" if m.rows_changed is None else f", {m.rows_changed:,} rows changed"
        size = format_bytes(m.size_change, signed=True) if m.size_change is not None else "?"
        out += [
            f"#### `{m.key}` — {m.status}, {format_ms(m.duration_ms)}{rows}, size {size}",
            "",
        ]
        if m.error:
            out += [f"> {_md_cell(m.error)}", ""]
        if m.statements:
            out += ["| # | Statement | Duration | Rows |", "|---:|---|---:|---:|"]
            for i, s in enumerate(m.statements, start=1):
                flag = " ⚠️" if s.over_budget else ""
                rows_cell = "" if s.rows is None else f"{s.rows:,}"
                out.append(
                    f"| {i} | `{_md_cell(_one_line(s.sql, 100))}` | {format_ms(s.ms)}{flag} "
                    f"| {rows_cell} |"
                )
            out.append("")
        if m.locks:
            out += [
                f"Locks held (sampled every {report.lock_sample_ms:.0f} ms):",
                "",
                "```",
                *(
                    f"{timeline(lk, m.duration_ms or 0.0)} {lk.mode:<22} {lk.relation} "
                    f"({lk.start_ms:.0f}–{lk.end_ms:.0f} ms)"
                    for lk in m.locks
                ),
                "```",
                "",
            ]
    trees = [q for q in report.queries if q.before_tree or q.after_tree]
    if trees:
        out += ["<details><summary>Plans</summary>", ""]
        for q in trees:
            for label, tree in (("before", q.before_tree), ("after", q.after_tree)):
                if tree:
                    out += [f"**{_md_cell(q.name)}**, {label}:", "", "```", tree, "```", ""]
        out += ["</details>", ""]
    return "\n".join(out)


def render_json(report: RunReport) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str)
