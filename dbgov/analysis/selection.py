"""Which migrations a plan renders, which it reports, and where the sandbox starts.

- ``pending`` (default), ``targets`` (like ``migrate app [name]``) and ``task``: the
  sandbox starts from the target's schema; the applied migrations only advance the
  (unrendered) project state.
- ``all``: the whole history, rendered from an empty database.
- ``since``: the migrations whose files were added or changed since a git ref are
  selected; every migration that is neither one of them nor depends on one counts as
  applied, and the sandbox starts from what those produce (a cached history template).
  This is how CI plans a branch against an empty database.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration as DjangoMigration

from .describe import source_info
from .errors import AnalysisError

__all__ = ["Selection", "changed_files", "select"]

Key = tuple[str, str]


@dataclass
class Selection:
    kind: str  # "pending", "all", "targets", "task" or "since"
    # How the sandbox starts: "schema" (the target's), "empty" or "history" (of `base`).
    start: str
    # Migrations the starting state already contains, in graph order.
    base: list[DjangoMigration] = field(default_factory=list)
    # Migrations to render, in the order `migrate` applies them.
    to_render: list[DjangoMigration] = field(default_factory=list)
    # The rendered migrations the report covers (others are rendered as dependencies).
    selected: set[Key] = field(default_factory=set)


def _parse_targets(loader: MigrationLoader, targets: Sequence[tuple[str, str | None]]) -> list[Key]:
    nodes: list[Key] = []
    leaves = loader.graph.leaf_nodes()
    for app_label, name in targets:
        if app_label not in loader.migrated_apps:
            raise AnalysisError(f"app {app_label!r} has no migrations (or is not installed)")
        if name is None:
            nodes.extend(n for n in leaves if n[0] == app_label)
            continue
        try:
            migration = loader.get_migration_by_prefix(app_label, name)
        except Exception as exc:
            raise AnalysisError(f"cannot find migration {app_label} {name}: {exc}") from exc
        nodes.append((app_label, migration.name))
    return nodes


def _in_order(executor: MigrationExecutor, loader: MigrationLoader) -> list[DjangoMigration]:
    return [m for m, _ in executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True)]


def select(
    executor: MigrationExecutor,
    *,
    kind: str,
    targets: Sequence[tuple[str, str | None]] = (),
    task: str | None = None,
    since: str | None = None,
) -> Selection:
    loader = executor.loader
    everything = _in_order(executor, loader)
    if kind == "all":
        selection = Selection(
            "all", "empty", [], everything, {(m.app_label, m.name) for m in everything}
        )
    elif kind == "since":
        assert since is not None
        selection = _since(loader, everything, since)
    else:
        applied = set(loader.applied_migrations)
        nodes = _parse_targets(loader, targets) if kind == "targets" else loader.graph.leaf_nodes()
        plan_items = executor.migration_plan(nodes)
        if any(backwards for _, backwards in plan_items):
            raise AnalysisError(
                "the targets are behind the applied state: dbgov plans forward migrations only"
            )
        to_render = [m for m, _ in plan_items]
        base = [m for m in everything if (m.app_label, m.name) in applied]
        selection = Selection(
            kind, "schema", base, to_render, {(m.app_label, m.name) for m in to_render}
        )
    if task:
        _restrict_to_task(executor, selection, task)
    return selection


def _restrict_to_task(executor: MigrationExecutor, selection: Selection, task: str) -> None:
    """Keep the task's migrations and what they depend on among the rendered ones."""
    task_nodes = [m for m in selection.to_render if getattr(m, "dbgov_task", None) == task]
    needed: set[Key] = set()
    for m in task_nodes:
        needed.update(executor.loader.graph.forwards_plan((m.app_label, m.name)))
    selection.to_render = [m for m in selection.to_render if (m.app_label, m.name) in needed]
    selection.selected = {(m.app_label, m.name) for m in task_nodes}
    selection.kind = "task"


# -- --since REF --------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
        )
    except FileNotFoundError as exc:
        raise AnalysisError("--since needs git, which is not installed") from exc
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise AnalysisError(f"git {' '.join(args)}: {message[-1] if message else exc}") from exc
    return out.stdout


def changed_files(ref: str, cwd: Path) -> set[Path]:
    """Files added or changed since ``ref`` (committed, staged, unstaged or untracked)."""
    root = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    names = _git(["diff", "--name-only", "--diff-filter=ACMR", "--no-renames", ref, "--"], root)
    untracked = _git(["ls-files", "--others", "--exclude-standard"], root)
    return {(root / line).resolve() for line in (names + untracked).splitlines() if line.strip()}


def _since(loader: MigrationLoader, everything: list[DjangoMigration], ref: str) -> Selection:
    base_dir = Path(getattr(settings, "BASE_DIR", Path.cwd()))
    changed = changed_files(ref, base_dir)
    selected: set[Key] = set()
    for m in everything:
        path = source_info(m).absolute
        if path is not None and path in changed:
            selected.add((m.app_label, m.name))
    # Whatever depends on a selected migration must be rendered after it.
    downstream: set[Key] = set(selected)
    for m in everything:
        key = (m.app_label, m.name)
        if key not in downstream and any(tuple(d) in downstream for d in _deps(loader, key)):
            downstream.add(key)
    base = [m for m in everything if (m.app_label, m.name) not in downstream]
    to_render = [m for m in everything if (m.app_label, m.name) in downstream]
    return Selection("since", "history", base, to_render, selected)


def _deps(loader: MigrationLoader, key: Key) -> list[Key]:
    node = loader.graph.node_map[key]
    return [p.key for p in node.parents]
