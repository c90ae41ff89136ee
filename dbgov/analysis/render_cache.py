"""A persistent cache of rendered SQL, one entry per migration.

An entry's key covers everything the rendered SQL depends on:

- the environment: dbgov's and Django's versions, the target's PostgreSQL version, the
  database backend, and the source of the field classes the migrations use (a custom
  field's ``db_type()`` lives in project code, not in the migration);
- the state before the migration: the starting schema (the target's fingerprint and
  applied migrations, an empty database, or a history) and every migration rendered
  before it in this run, by file content;
- the migration itself: its file's content and the SQL of its RunSQL operations (which
  may be read from other files).

So CI reruns render only what changed, and any change before a migration invalidates
it. ``--no-cache`` (or ``DBGOV["CACHE_DIR"] = False``) bypasses the cache. Entries are
JSON files written atomically; a corrupt or foreign entry counts as a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
from django.db.migrations import operations as ops
from django.db.migrations.migration import Migration as DjangoMigration

from ..conf import dbgov_settings
from .model import Migration, Operation, Statement

__all__ = [
    "RenderCache",
    "cache_dir",
    "environment_key",
    "history_key",
    "label_chain",
    "migration_key",
    "sha",
]

# Bump when the entry format or the renderer's output changes.
FORMAT = 2


def cache_dir() -> Path | None:
    configured = dbgov_settings.CACHE_DIR
    if configured is False:
        return None
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dbgov"


def sha(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def _field_classes(migrations: Iterable[DjangoMigration]) -> set[type]:
    found: set[type] = set()

    def visit(op: Any) -> None:
        if isinstance(op, ops.SeparateDatabaseAndState):
            for sub in op.database_operations:
                visit(sub)
            return
        field = getattr(op, "field", None)
        if field is not None:
            found.add(type(field))
        for _, f in getattr(op, "fields", None) or ():
            found.add(type(f))

    for migration in migrations:
        for op in migration.operations:
            visit(op)
    return found


_source_hashes: dict[str, str] = {}


def _module_hash(cls: type) -> str:
    try:
        path = inspect.getsourcefile(cls) or ""
    except TypeError:
        return cls.__qualname__
    if not path:
        return cls.__qualname__
    if path not in _source_hashes:
        try:
            _source_hashes[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            _source_hashes[path] = "?"
    return f"{cls.__module__}.{cls.__qualname__}:{_source_hashes[path]}"


def _routers() -> list[str]:
    """Routers decide which operations run on which alias: their code is part of the key."""
    from django.db import router

    return [_module_hash(type(r)) for r in router.routers]


def environment_key(
    migrations: Iterable[DjangoMigration], *, alias: str, backend: str, target_version: int | None
) -> str:
    from dbgov import __version__

    django_dir = Path(django.__file__).resolve().parent
    fields = sorted(
        _module_hash(cls)
        for cls in _field_classes(migrations)
        # Django's own fields are covered by its version.
        if not Path(inspect.getfile(cls)).resolve().is_relative_to(django_dir)
    )
    return sha(
        FORMAT,
        __version__,
        django.__version__,
        alias,
        backend,
        target_version,
        *_routers(),
        *fields,
    )


def _run_sql_text(migration: DjangoMigration) -> str:
    parts = []
    for op in migration.operations:
        if isinstance(op, ops.RunSQL):
            parts.append(repr(op.sql))
        elif isinstance(op, ops.SeparateDatabaseAndState):
            parts.extend(repr(getattr(s, "sql", "")) for s in op.database_operations)
    return "\n".join(parts)


def label_chain(migrations: Iterable[DjangoMigration]) -> str:
    """The migrations, in order, with the hash of each file (what a state is made of)."""
    from .describe import source_info

    return "\n".join(f"{m.app_label}.{m.name}:{source_info(m).sha256}" for m in migrations)


def history_key(env: str, base: Iterable[DjangoMigration]) -> str:
    """The key of the schema ``base`` produces from an empty database."""
    return sha(env, "history", label_chain(base))


def migration_key(previous: str, migration: DjangoMigration, sha256: str | None) -> str:
    """The key of ``migration`` after the state keyed ``previous``."""
    return sha(previous, migration.app_label, migration.name, sha256, _run_sql_text(migration))


@dataclass
class RenderCache:
    directory: Path | None
    hits: int = 0
    misses: int = 0
    writes: int = 0

    @classmethod
    def from_settings(cls, *, enabled: bool = True) -> RenderCache:
        return cls(cache_dir() if enabled else None)

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / "render" / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.directory is None:
            return None
        try:
            doc = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            self.misses += 1
            return None
        if doc.get("format") != FORMAT or doc.get("key") != key:
            self.misses += 1
            return None
        self.hits += 1
        return dict(doc)

    def put(self, key: str, report: Migration) -> None:
        if self.directory is None:
            return
        doc = {"format": FORMAT, "key": key, **dump_migration(report)}
        path = self._path(key)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(doc, handle)
            os.replace(tmp, path)
            self.writes += 1

    # Snapshots of history templates, for drift (see dbgov.analysis.drift).
    def get_json(self, kind: str, key: str) -> dict[str, Any] | None:
        if self.directory is None:
            return None
        try:
            return dict(json.loads((self.directory / kind / f"{key}.json").read_text()))
        except (OSError, ValueError):
            return None

    def put_json(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        if self.directory is None:
            return
        path = self.directory / kind / f"{key}.json"
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(doc, handle)
            os.replace(tmp, path)


def dump_migration(report: Migration) -> dict[str, Any]:
    return {
        "error": report.error,
        "operations": [
            {
                "error": op.error,
                "details": op.details,
                "statements": [
                    {
                        "sql": s.sql,
                        "deferred": s.deferred,
                        "position": s.position,
                        "failed": s.failed,
                    }
                    for s in op.statements
                ],
            }
            for op in report.operations
        ],
    }


def load_into(report: Migration, doc: dict[str, Any]) -> None:
    """Fill ``report`` (described from the migration file) with the cached rendering."""
    report.error = doc.get("error")
    cached_ops = doc.get("operations") or []
    for op, cached in zip(report.operations, cached_ops, strict=False):
        _load_operation(op, cached)


def _load_operation(op: Operation, cached: dict[str, Any]) -> None:
    op.error = cached.get("error")
    op.details = dict(cached.get("details") or {})
    op.statements = [
        Statement(
            sql=s["sql"],
            deferred=bool(s.get("deferred")),
            position=s.get("position"),
            failed=s.get("failed"),
        )
        for s in cached.get("statements") or []
    ]
