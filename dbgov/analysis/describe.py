"""What a migration file says about itself: path, content hash, task, operations.

The report's skeleton (``model.Migration`` with its ``Operation`` entries) is built from
the file and the loaded Migration class alone; the renderer or the render cache fills
in the SQL.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import inspect
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.migrations.migration import Migration as DjangoMigration
from django.db.migrations.operations.base import Operation as DjangoOperation

from .compat import (
    EVERY_RULE,
    IGNORE_MIGRATION_REASON,
    MIGRATION_LINTER,
    declares_ignore_migration,
)
from .model import Migration, Operation

__all__ = ["SourceInfo", "describe_migration", "relative_path", "source_info"]


@dataclass(frozen=True)
class SourceInfo:
    path: str | None = None  # relative to BASE_DIR when inside it
    sha256: str | None = None
    operation_lines: tuple[int, ...] = ()
    absolute: Path | None = None


def relative_path(path: Path) -> str:
    base = Path(getattr(settings, "BASE_DIR", Path.cwd()))
    try:
        return str(path.resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)


def source_info(migration: DjangoMigration) -> SourceInfo:
    """Path, content hash and operation line numbers of a migration's file."""
    module = inspect.getmodule(type(migration))
    filename = getattr(module, "__file__", None)
    if not filename:
        return SourceInfo()
    path = Path(filename).resolve()
    try:
        st = path.stat()
    except OSError:
        return SourceInfo()
    return _source_info(path, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4096)
def _source_info(path: Path, mtime_ns: int, size: int) -> SourceInfo:
    data = path.read_bytes()
    lines: list[int] = []
    with contextlib.suppress(SyntaxError):
        for node in ast.walk(ast.parse(data)):
            if isinstance(node, ast.ClassDef) and node.name == "Migration":
                for stmt in node.body:
                    value: ast.expr | None
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        target, value = stmt.targets[0], stmt.value
                    elif isinstance(stmt, ast.AnnAssign):
                        target, value = stmt.target, stmt.value
                    else:
                        continue
                    if (
                        isinstance(target, ast.Name)
                        and target.id == "operations"
                        and isinstance(value, ast.List | ast.Tuple)
                    ):
                        lines = [elt.lineno for elt in value.elts]
    return SourceInfo(relative_path(path), hashlib.sha256(data).hexdigest(), tuple(lines), path)


def describe_migration(migration: DjangoMigration, *, selected: bool, applied: bool) -> Migration:
    info = source_info(migration)
    task = getattr(migration, "dbgov_task", None)
    ignores = getattr(migration, "dbgov_ignore", None) or {}
    return Migration(
        app_label=migration.app_label,
        name=migration.name,
        path=info.path,
        task=str(task) if task else None,
        atomic=bool(migration.atomic),
        replaces=[tuple(r) for r in (migration.replaces or [])],  # type: ignore[misc]
        sha256=info.sha256,
        selected=selected,
        applied=applied,
        ignores={int(i): dict(rules) for i, rules in ignores.items()},
        index_purpose=dict(getattr(migration, "dbgov_index_purpose", None) or {}),
        tool_ignores=(
            {MIGRATION_LINTER: {EVERY_RULE: IGNORE_MIGRATION_REASON}}
            if declares_ignore_migration(migration.operations)
            else {}
        ),
        operations=[
            Operation(
                index=i,
                type=type(op).__name__,
                description=_describe(op),
                renders_sql=op.reduces_to_sql,
                reversible=op.reversible,
                line=info.operation_lines[i] if i < len(info.operation_lines) else None,
            )
            for i, op in enumerate(migration.operations)
        ],
    )


def _describe(op: DjangoOperation) -> str:
    try:
        return str(op.describe())
    except Exception:  # a third-party operation with a broken describe()
        return type(op).__name__
