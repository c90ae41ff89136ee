"""The task's completion report: what a database engineer hands over when a task is done.

For one task: its migration files, the schema changes as SQL, the rollback SQL (the
reverse migrations rendered the way ``sqlmigrate --backwards`` does, nothing
executed), the EXPLAIN verdict of the last rehearsal ("Seq Scan → Index Scan, verified
on 100K rows, 16 ms → 0.04 ms"), the decisions with their reasons, and what is still
open. ``dbgov report --task T-021`` prints it as text, Markdown or JSON; the task page
in the admin shows it.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from dbgov.models import Approval, ApprovalRequest, ExplainRun, PlanMigration, QueryPlan, Task

__all__ = [
    "Handover",
    "build_handover",
    "render_json",
    "render_markdown",
    "render_text",
    "migration_files_by_task",
    "task_migrations",
]


@dataclass
class MigrationSQL:
    label: str
    path: str
    applied: bool
    reversible: bool | None  # None: the file is gone, nobody can tell
    forward_sql: list[str] = field(default_factory=list)
    rollback_sql: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class QueryVerdict:
    pattern: str
    verdict: str
    regression: bool


@dataclass
class DecisionLine:
    finding: str
    severity: str
    decision: str
    reviewer: str
    reason: str
    at: str


@dataclass
class Handover:
    task: str
    title: str
    status: str
    owner: str
    acceptance_criteria: str
    migrations: list[MigrationSQL]
    rehearsal: int | None
    rehearsal_status: str
    verdicts: list[QueryVerdict]
    decisions: list[DecisionLine]
    open_items: list[str]

    @property
    def done(self) -> bool:
        return not self.open_items

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "done": self.done}


def _rows(n: int) -> str:
    """100000 → "100K" (how people say table sizes)."""
    for unit, size in (("B", 1_000_000_000), ("M", 1_000_000), ("K", 1_000)):
        if n >= size:
            value = n / size
            return (
                f"{value:.0f}{unit}" if value >= 10 or value == int(value) else f"{value:.1f}{unit}"
            )
    return str(n)


def _ms(ms: float) -> str:
    from dbgov.explain.explain import format_ms

    return format_ms(ms)


def _median(p: QueryPlan) -> float | None:
    times = [float(r["execution_ms"]) for r in p.repetitions if r.get("execution_ms")]
    if times:
        return float(statistics.median(times))
    return p.execution_ms


def _access(p: QueryPlan) -> str:
    first = p.access_path.split(", ")[0]
    return first.split(" using ")[0] if first else p.top_node


def _verdicts(run: ExplainRun) -> list[QueryVerdict]:
    from dbgov.explain.patterns import sql_tables

    by_name: dict[str, dict[str, QueryPlan]] = {}
    for p in run.query_plans.all():
        by_name.setdefault(p.pattern_name, {})[p.phase] = p
    out = []
    for name, phases in sorted(by_name.items()):
        before, after = phases.get("before"), phases.get("after")
        if after is None or before is None or after.status != "ok" or before.status != "ok":
            some = after or before
            failed = some.error if some is not None else ""
            out.append(QueryVerdict(name, failed or "not measured", False))
            continue
        rows = [run.table_rows[t] for t in sql_tables(after.sql) if t in run.table_rows]
        shape = (
            _access(after)
            if _access(before) == _access(after)
            else (f"{_access(before)} → {_access(after)}")
        )
        b, a = _median(before), _median(after)
        verified = f", verified on {_rows(max(rows))} rows" if rows else ""
        timing = f", {_ms(b)} → {_ms(a)}" if b is not None and a is not None else ""
        text = f"{shape}{verified}{timing}"
        if after.regression:
            text += " — REGRESSION"
        out.append(QueryVerdict(name, text, after.regression))
    return out


def _render_sql(executor: MigrationExecutor, migration: Any, backwards: bool) -> list[str]:
    """The SQL of one migration, forwards or backwards, collected and not executed
    (what ``sqlmigrate`` prints)."""
    state = executor.loader.project_state((migration.app_label, migration.name), at_end=False)
    with connections["default"].schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        if backwards:
            state = executor.loader.project_state(
                (migration.app_label, migration.name), at_end=True
            )
            migration.unapply(state, editor, collect_sql=True)
        else:
            migration.apply(state, editor, collect_sql=True)
    return [s for s in editor.collected_sql if s.strip() and not s.startswith("--")]


def migration_files_by_task(keys: Any) -> dict[str, set[tuple[str, str]]]:
    """{task key: {(app, name)}} of the migration files on disk naming these tasks."""
    from django.db.migrations.loader import MigrationLoader

    from dbgov.explain.rehearse import task_of

    wanted = set(keys)
    out: dict[str, set[tuple[str, str]]] = {}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key, migration in loader.disk_migrations.items():
        task = task_of(migration)
        if task in wanted:
            out.setdefault(task, set()).add(key)
    return out


def task_migrations(task: Task, *, render: bool = True) -> list[MigrationSQL]:
    """The task's migrations: files naming it on disk plus those stored plans tied to
    it, applied or not on the default database (read now, not when a plan was stored);
    with ``render``, their SQL both ways."""
    from dbgov.explain.rehearse import task_of

    from .services import display_path, migration_file

    executor = MigrationExecutor(connections["default"])
    loader = executor.loader
    recorder = MigrationRecorder(connections["default"])
    applied = set(recorder.applied_migrations()) if recorder.has_table() else set()
    keys = sorted(k for k, m in loader.disk_migrations.items() if task_of(m) == task.key)
    # Migrations a stored plan tied to the task but no longer on disk still count.
    stored = set(PlanMigration.objects.filter(task_key=task.key).values_list("app_label", "name"))
    out = []
    for key in sorted(set(keys) | stored):
        migration = loader.disk_migrations.get(key)
        if migration is None:
            out.append(
                MigrationSQL(
                    label=f"{key[0]}.{key[1]}",
                    path="",
                    applied=key in applied,
                    reversible=None,
                    error="the migration file is no longer on disk",
                )
            )
            continue
        item = MigrationSQL(
            label=f"{key[0]}.{key[1]}",
            path=display_path(migration_file(migration)),
            applied=key in applied,
            reversible=all(op.reversible for op in migration.operations),
        )
        if not render:
            out.append(item)
            continue
        try:
            item.forward_sql = _render_sql(executor, migration, backwards=False)
            if item.reversible:
                item.rollback_sql = _render_sql(executor, migration, backwards=True)
        except Exception as exc:  # a migration Django cannot render here: say so
            item.error = f"could not render the SQL: {type(exc).__name__}: {exc}"
        out.append(item)
    return out


def build_handover(task: Task) -> Handover:
    migrations = task_migrations(task)
    run = (
        ExplainRun.objects.filter(task=task, status=ExplainRun.Status.SUCCEEDED)
        .prefetch_related("query_plans")
        .order_by("-created_at", "-id")
        .first()
    )
    verdicts = _verdicts(run) if run is not None else []
    requests = list(ApprovalRequest.objects.filter(task=task).order_by("-severity_rank", "id"))
    decisions = [
        DecisionLine(
            finding=f"{a.request.rule_id} {a.request.migration_label}",
            severity=a.request.severity,
            decision=a.decision,
            reviewer=a.reviewer.get_username(),
            reason=a.reason,
            at=a.created_at.isoformat(timespec="minutes"),
        )
        for a in Approval.objects.filter(request__task=task)
        .select_related("request", "reviewer")
        .order_by("created_at", "id")
    ]
    open_items = [
        f"{r.rule_id} on {r.migration_label} is {r.get_status_display().lower()}"
        for r in requests
        if r.status in (ApprovalRequest.Status.OPEN, ApprovalRequest.Status.REJECTED)
    ]
    if not migrations:
        open_items.append(f"no migration names {task.key} (dbgov makemigrations --task)")
    open_items += [f"{m.label} is not applied" for m in migrations if not m.applied]
    open_items += [
        f"{m.label} has no reverse operation" for m in migrations if m.reversible is False
    ]
    open_items += [f"{m.label}: {m.error}" for m in migrations if m.reversible is None]
    if run is None:
        open_items.append("no successful rehearsal on a staging copy yet (dbgov explain)")
    open_items += [f"regression: {v.pattern}: {v.verdict}" for v in verdicts if v.regression]
    return Handover(
        task=task.key,
        title=task.title,
        status=task.get_status_display(),
        owner=task.owner.get_username() if task.owner else "",
        acceptance_criteria=task.acceptance_criteria,
        migrations=migrations,
        rehearsal=run.pk if run else None,
        rehearsal_status=run.status if run else "",
        verdicts=verdicts,
        decisions=decisions,
        open_items=open_items,
    )


# Rendering -----------------------------------------------------------------------------


def render_text(h: Handover) -> str:
    lines = [f"{h.task} {h.title}: {h.status}" + (f" (owner {h.owner})" if h.owner else "")]
    if h.acceptance_criteria:
        lines += ["", "Acceptance criteria:"] + [
            f"  {line}" for line in h.acceptance_criteria.splitlines()
        ]
    lines += ["", "Migrations:"]
    for m in h.migrations:
        state = "applied" if m.applied else "not applied"
        lines.append(f"  {m.label} ({m.path or 'missing'}) — {state}")
    for title, attr in (("Schema changes", "forward_sql"), ("Rollback", "rollback_sql")):
        lines += ["", f"{title}:"]
        for m in h.migrations:
            lines.append(f"  -- {m.label}")
            sql = getattr(m, attr)
            if m.error:
                lines.append(f"  -- {m.error}")
            elif attr == "rollback_sql" and m.reversible is False:
                lines.append("  -- irreversible: no reverse operation")
            lines += [f"  {s}" for s in sql] or ([] if m.error else ["  -- (no SQL)"])
    lines += ["", "Rehearsal" + (f" run {h.rehearsal}:" if h.rehearsal else ": none yet")]
    lines += [f"  {v.pattern}: {v.verdict}" for v in h.verdicts]
    lines += ["", "Decisions:"]
    lines += [
        f"  {d.at} {d.decision} by {d.reviewer}: {d.finding} — {d.reason}" for d in h.decisions
    ] or ["  none"]
    lines += ["", "Still open:" if h.open_items else "Nothing is open: the task is done."]
    lines += [f"  - {item}" for item in h.open_items]
    return "\n".join(lines)


def render_markdown(h: Handover) -> str:
    out = [f"## {h.task} {h.title}", "", f"**Status:** {h.status}"]
    if h.owner:
        out[-1] += f" · **Owner:** {h.owner}"
    if h.acceptance_criteria:
        out += ["", "**Acceptance criteria**", "", h.acceptance_criteria]
    out += ["", "### Migrations", ""]
    out += [
        f"- `{m.label}` ({m.path or 'missing'}) — {'applied' if m.applied else 'not applied'}"
        for m in h.migrations
    ] or ["- none"]
    for title, attr in (("Schema changes", "forward_sql"), ("Rollback", "rollback_sql")):
        out += ["", f"### {title}", "", "```sql"]
        for m in h.migrations:
            out.append(f"-- {m.label}")
            if m.error:
                out.append(f"-- {m.error}")
            elif attr == "rollback_sql" and m.reversible is False:
                out.append("-- irreversible: no reverse operation")
            out += getattr(m, attr)
        out.append("```")
    out += ["", "### Rehearsal", ""]
    if h.rehearsal:
        out += [f"Run {h.rehearsal}:", ""] + [f"- **{v.pattern}**: {v.verdict}" for v in h.verdicts]
    else:
        out.append("No successful rehearsal yet.")
    out += ["", "### Decisions", ""]
    out += [
        f"- {d.at} **{d.decision}** by {d.reviewer} — {d.finding}: {d.reason}" for d in h.decisions
    ] or ["- none"]
    out += ["", "### Still open", ""]
    out += [f"- [ ] {item}" for item in h.open_items] or ["Nothing: the task is done. ✅"]
    return "\n".join(out) + "\n"


def render_json(h: Handover) -> str:
    return json.dumps(h.as_dict(), indent=2)
