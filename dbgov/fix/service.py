"""``fix``: one pending migration in, the safe sequence of migrations out, verified.

1. Refuse what cannot be rewritten (unknown, applied, squashed migrations).
2. Each operation goes to the first pattern that matches it (the modules beside this
   one); the others are kept, in order, in a migration of their own.
3. The files are written together (the original removed, its dependents rewired),
   planned again and run forwards/backwards in the sandbox; when anything fails, every
   file is restored and nothing stays half-written. ``dry_run`` restores them anyway.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation

from . import (
    add_not_null,
    constraint_not_valid,
    index_concurrently,
    remove_later,
    rename_keep_db_name,
    type_change,
)
from .steps import FixContext, FixError, Rewrite, Step
from .verify import Remaining, flagged_operations, replan, round_trip
from .writer import FileChanges, render_step, rewire

__all__ = ["FixResult", "fix_migration"]

# Order matters: index_concurrently claims AlterField(db_index) before type_change looks.
PATTERNS = [
    add_not_null,
    constraint_not_valid,
    index_concurrently,
    rename_keep_db_name,
    remove_later,
    type_change,
]

_NUMBER = re.compile(r"^(\d+)_")


@dataclass
class WrittenFile:
    name: str
    path: Path
    text: str
    phase: str


@dataclass
class FixResult:
    app_label: str
    original: str
    files: list[WrittenFile]
    rewired: list[Path]
    patterns: list[str]
    remaining: list[Remaining]
    sandbox: list[str]
    notes: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def unexpected(self) -> list[Remaining]:
        return [r for r in self.remaining if r.why is None]


def _steps(
    ctx: FixContext, operations: list[Operation], flagged: set[int]
) -> tuple[list[Step], list[Rewrite]]:
    """Each flagged operation through the first pattern that matches; the rest kept."""
    steps: list[Step] = []
    rewrites: list[Rewrite] = []
    kept: list[Operation] = []
    for index, op in enumerate(operations):
        candidates = PATTERNS if index in flagged else []
        pattern = next((p for p in candidates if p.matches(op, ctx)), None)  # type: ignore[attr-defined]
        if pattern is None:
            kept.append(op)
        else:
            if kept:
                steps.append(Step("keep", kept, comment="Operations kept as they were."))
                kept = []
            rewrite = pattern.rewrite(op, ctx)  # type: ignore[attr-defined]
            rewrites.append(rewrite)
            steps.extend(rewrite.steps)
        op.state_forwards(ctx.app_label, ctx.state)
    if kept:
        steps.append(Step("keep", kept, comment="Operations kept as they were."))
    return steps, rewrites


def fix_migration(
    app_label: str,
    name: str,
    *,
    database: str = DEFAULT_DB_ALIAS,
    dry_run: bool = False,
    backfill_value: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> FixResult:
    loader = MigrationLoader(connections[database], ignore_no_migrations=True)
    try:
        migration = loader.get_migration_by_prefix(app_label, name)
    except (KeyError, LookupError, ValueError) as exc:  # unknown app, no or many matches
        raise FixError(f"{app_label}.{name}: {exc.args[0] if exc.args else exc}") from exc
    key = (migration.app_label, migration.name)
    label = f"{key[0]}.{key[1]}"
    if key in loader.applied_migrations:
        raise FixError(
            f"{label} is applied on {database!r}: dbgov fix never rewrites an applied "
            "migration (the database already ran it); write a new migration instead"
        )
    if migration.replaces or getattr(migration, "run_before", None):
        raise FixError(f"{label} replaces or runs before other migrations: rewrite it by hand")
    ctx = FixContext(
        app_label=key[0],
        migration_name=key[1],
        state=loader.project_state(key, at_end=False),
        database=database,
        backfill_value=backfill_value,
    )
    progress(f"planning {label}")
    flagged = flagged_operations(database, key[0], key[1])
    if not flagged:
        raise FixError(f"{label}: no operation has findings to review; nothing to rewrite")
    steps, rewrites = _steps(ctx, list(migration.operations), flagged)
    if not rewrites:
        raise FixError(
            f"{label}: no operation dbgov fix knows how to rewrite ("
            + ", ".join(type(migration.operations[i]).__name__ for i in sorted(flagged))
            + ")"
        )
    number = _NUMBER.match(key[1])
    prefix = number.group(1) if number else key[1]
    names = [f"{prefix}_{i}_{s.suffix}"[:100] for i, s in enumerate(steps, 1)]
    taken = {n for (a, n) in loader.disk_migrations if a == key[0]} - {key[1]}
    clash = [n for n in names if n in taken]
    if clash:
        raise FixError(f"{label}: migration names already taken: {', '.join(clash)}")

    original_path = Path(inspect.getfile(type(migration)))
    task = getattr(migration, "dbgov_task", None)
    purpose = dict(getattr(migration, "dbgov_index_purpose", None) or {})
    patterns = ", ".join(r.pattern for r in rewrites)
    changes = FileChanges()
    files: list[WrittenFile] = []
    previous: list[tuple[str, str]] = list(migration.dependencies)
    for step, step_name in zip(steps, names, strict=True):
        path, text = render_step(
            step,
            app_label=key[0],
            name=step_name,
            dependencies=previous,
            task=str(task) if task else None,
            header=f"dbgov fix ({patterns}) of {label}, {step.phase}-deploy:",
            index_purpose=purpose,
        )
        changes.writes[path] = text
        files.append(WrittenFile(step_name, path, text, step.phase))
        previous = [(key[0], step_name)]
    rewired: list[Path] = []
    for child in sorted(loader.graph.node_map[key].children):
        child_migration = loader.disk_migrations[child]
        child_path = Path(inspect.getfile(type(child_migration)))
        text = child_path.read_text(encoding="utf-8")
        new_text = rewire(text, key[0], key[1], names[-1])
        if new_text == text:
            raise FixError(
                f"{child[0]}.{child[1]} depends on {label} in a way dbgov fix cannot rewrite"
            )
        changes.writes[child_path] = new_text
        rewired.append(child_path)
    changes.deletes.append(original_path)

    parents = [d[1] for d in migration.dependencies if d[0] == key[0]]
    expected: dict[str, str] = {}
    for r in rewrites:
        expected.update(r.expected)
    result = FixResult(
        app_label=key[0],
        original=key[1],
        files=files,
        rewired=rewired,
        patterns=[r.pattern for r in rewrites],
        remaining=[],
        sandbox=[],
        notes=[n for r in rewrites for n in r.notes],
    )
    progress(f"writing {len(files)} migration(s) for {label} ({patterns})")
    changes.apply()
    try:
        progress("applying them forwards and backwards in the sandbox")
        result.sandbox = round_trip(database, key[0], parents[-1] if parents else None, names[-1])
        progress("planning them again")
        result.remaining = replan(database, key[0], names[-1], set(names), expected)
        if result.unexpected:
            raise FixError(
                f"{label}: the rewrite still has findings that need review: "
                + "; ".join(
                    f"{r.finding.migration} {r.finding.rule_id}: {r.finding.message}"
                    for r in result.unexpected
                )
            )
    except FixError as exc:
        changes.rollback()
        message = str(exc)
        raise FixError(message if message.startswith(label) else f"{label}: {message}") from exc
    except BaseException:
        changes.rollback()
        raise
    if dry_run:
        changes.rollback()
    else:
        result.written = True
    return result
