"""Before or after the deploy: which migrations the running release survives.

A deploy runs migrations while the previous release still serves requests. A migration
is *pre-deploy* when that release keeps working after it (new tables, nullable columns,
indexes, NOT VALID constraints), and *post-deploy* when it needs the new release first:
it removes or renames what the old code reads, or makes NOT NULL a column the old code
does not write. ``migrate --phase pre`` applies the pre-deploy migrations up to the
first post-deploy one; ``--phase post`` applies the rest once the new release runs.

The phase comes from the operations, read against the project state before each one
(cheap: the state is never rendered), or from the file: ``dbgov_phase = "post"``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import models
from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration as DjangoMigration
from django.db.migrations.operations.base import Operation as DjangoOperation
from django.db.migrations.state import ProjectState

from .errors import AnalysisError
from .model import Plan

__all__ = [
    "PHASES",
    "POST",
    "PRE",
    "PhaseDecision",
    "PhaseRun",
    "classify",
    "keep_phase",
    "phase_run",
    "phases_of",
    "split_by_phase",
]

PRE = "pre"
POST = "post"
PHASES = (PRE, POST)

# Raw SQL that takes away what the running release uses.
_POST_SQL = re.compile(
    r"\b(DROP\s+COLUMN|DROP\s+TABLE|SET\s+NOT\s+NULL|RENAME\s+(COLUMN\s+)?\w+\s+TO|RENAME\s+TO)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PhaseDecision:
    phase: str  # PRE or POST
    # Why it is post-deploy (one line per operation), or that the file says so.
    reasons: tuple[str, ...] = ()
    declared: bool = False


def _field(state: ProjectState, app_label: str, model_name: str, name: str) -> models.Field | None:
    model = state.models.get((app_label, model_name.lower()))
    if model is None:
        return None
    return model.fields.get(name)


def _db_table_kept(state: ProjectState, app_label: str, model_name: str) -> bool:
    model = state.models.get((app_label, model_name.lower()))
    return bool(model and model.options.get("db_table"))


def _sql_text(sql: object) -> str:
    if isinstance(sql, str):
        return sql
    if isinstance(sql, list | tuple):
        return "\n".join(s if isinstance(s, str) else str(s[0]) for s in sql)
    return ""


def _operation_reason(op: DjangoOperation, app_label: str, state: ProjectState) -> str | None:
    """Why ``op`` needs the new release first, or None when the old one survives it."""
    if isinstance(op, ops.SeparateDatabaseAndState):
        for inner in op.database_operations:
            reason = _operation_reason(inner, app_label, state)
            if reason:
                return reason
        return None
    if isinstance(op, ops.RemoveField):
        return f"removes {op.model_name_lower}.{op.name}: the running release still reads it"
    if isinstance(op, ops.DeleteModel):
        return f"deletes {op.name}: the running release still uses it"
    if isinstance(op, ops.RenameField):
        old = _field(state, app_label, op.model_name, op.old_name)
        if old is not None and old.db_column:
            return None  # the column keeps its name: state only
        return f"renames {op.model_name_lower}.{op.old_name}: the running release uses the old name"
    if isinstance(op, ops.RenameModel):
        if _db_table_kept(state, app_label, op.old_name):
            return None
        return f"renames {op.old_name}'s table: the running release uses the old name"
    if isinstance(op, ops.AlterModelTable):
        return f"renames {op.name}'s table: the running release uses the old name"
    if isinstance(op, ops.AddField):
        field = op.field
        if (
            not field.null
            and not field.many_to_many
            and getattr(field, "db_default", models.NOT_PROVIDED) is models.NOT_PROVIDED
        ):
            return (
                f"adds {op.model_name_lower}.{op.name} NOT NULL without a database default: "
                "the running release inserts rows without it"
            )
        return None
    if isinstance(op, ops.AlterField):
        old = _field(state, app_label, op.model_name, op.name)
        if old is not None and old.null and not op.field.null:
            return (
                f"makes {op.model_name_lower}.{op.name} NOT NULL: the running release may "
                "still write NULL"
            )
        if old is not None and (old.db_column or op.name) != (op.field.db_column or op.name):
            return f"renames {op.model_name_lower}.{op.name}'s column: the running release uses the old name"
        return None
    if isinstance(op, ops.RunSQL):
        match = _POST_SQL.search(_sql_text(op.sql))
        if match:
            return f"raw SQL {' '.join(match.group(1).split()).upper()}: the running release may still need it"
    return None


def _advance(op: DjangoOperation, app_label: str, state: ProjectState) -> None:
    """``op.state_forwards``; an operation that cannot is the renderer's finding to
    report (render-failed), not a reason to refuse the whole plan: the walk goes on."""
    with contextlib.suppress(Exception):
        op.state_forwards(app_label, state)


def classify(migration: DjangoMigration, state: ProjectState) -> PhaseDecision:
    """The phase of ``migration``; ``state`` is the project state before it and is
    advanced past it (so a caller walking the history classifies each in one pass)."""
    reasons: list[str] = []
    for op in migration.operations:
        reason = _operation_reason(op, migration.app_label, state)
        if reason:
            reasons.append(reason)
        _advance(op, migration.app_label, state)
    declared = getattr(migration, "dbgov_phase", None)
    if declared is not None:
        if declared not in PHASES:
            raise AnalysisError(
                f"{migration.app_label}.{migration.name}: dbgov_phase = {declared!r} "
                f"is not one of {', '.join(repr(p) for p in PHASES)}"
            )
        return PhaseDecision(declared, tuple(reasons) or ("declared in the file",), True)
    return PhaseDecision(POST if reasons else PRE, tuple(reasons))


def phases_of(
    loader: MigrationLoader, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], PhaseDecision]:
    """The phase of each of ``keys``, from one walk over the history (nothing rendered)."""
    wanted = set(keys)
    found: dict[tuple[str, str], PhaseDecision] = {}
    if not wanted:
        return found
    state = ProjectState(real_apps=set(loader.unmigrated_apps))
    for key in _history_order(loader):
        migration = loader.graph.nodes[key]
        if key in wanted:
            found[key] = classify(migration, state)
            if len(found) == len(wanted):
                break
        else:
            for op in migration.operations:
                _advance(op, migration.app_label, state)
    return found


def _history_order(loader: MigrationLoader) -> list[tuple[str, str]]:
    """Every migration of the graph in an order ``migrate`` could apply them."""
    seen: set[tuple[str, str]] = set()
    order: list[tuple[str, str]] = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                order.append(key)
    return order


def split_by_phase(
    ordered: Sequence[tuple[str, str]], decisions: dict[tuple[str, str], PhaseDecision]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(pre, post): the migrations before the first post-deploy one, and the rest.

    ``ordered`` is ``migrate``'s order; a prefix of it is closed under dependencies, so
    the pre-deploy part can be applied alone.
    """
    for i, key in enumerate(ordered):
        if decisions[key].phase == POST:
            return list(ordered[:i]), list(ordered[i:])
    return list(ordered), []


def keep_phase(plan: Plan, phase: str) -> Plan:
    """``plan`` narrowed to the migrations ``migrate --phase phase`` would apply.

    The others stay in ``plan.migrations`` (unselected, as context) and lose their
    findings.
    """
    selected = plan.selected
    decisions = {m.key: PhaseDecision(m.phase) for m in selected}
    pre, post = split_by_phase([m.key for m in selected], decisions)
    keep = set(pre if phase == PRE else post)
    for m in selected:
        m.selected = m.key in keep
    plan.findings = [
        f for f in plan.findings if f.migration is None or (f.app_label or "", f.migration) in keep
    ]
    plan.notes.append(
        f"--phase {phase}: {len(keep)} of {len(selected)} migration(s)"
        + (f"; the first post-deploy one is {post[0][0]}.{post[0][1]}" if post else "")
    )
    return plan


@dataclass(frozen=True)
class PhaseRun:
    """What ``migrate --phase`` does: ``migrate app_label migration`` per app, in order."""

    targets: list[tuple[str, str]]
    message: str


def phase_run(loader: MigrationLoader, forward: Sequence[tuple[str, str]], phase: str) -> PhaseRun:
    """The part of ``forward`` (``migrate``'s plan, in order) that ``--phase`` applies."""
    decisions = phases_of(loader, forward)
    pre, post = split_by_phase(forward, decisions)
    if phase == PRE:
        chosen = pre
        message = f"dbgov --phase pre: {len(pre)} pre-deploy migration(s)"
        if post:
            first = post[0]
            message += (
                f"; stopping before {first[0]}.{first[1]} "
                f"(post-deploy: {'; '.join(decisions[first].reasons)})"
            )
    else:
        chosen = pre + post
        message = f"dbgov --phase post: {len(post)} post-deploy migration(s)"
        if pre:
            message += f", after {len(pre)} pre-deploy one(s) still pending"
    if not chosen:
        message += ": nothing to apply."
    last: dict[str, str] = {}
    for app_label, name in chosen:
        last.pop(app_label, None)  # keep the apps in the order they finish
        last[app_label] = name
    return PhaseRun(list(last.items()), message)
