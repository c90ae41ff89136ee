"""Loading the migration graph, with bad input turned into one clear AnalysisError.

The only read on the target here is Django's own list of applied migrations (``SELECT``
on ``django_migrations``), made in a transaction with a short ``lock_timeout`` so that it
never waits in a lock queue behind a migration.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import django
from django.db import transaction
from django.db.migrations.exceptions import (
    BadMigrationError,
    CircularDependencyError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)
from django.db.migrations.loader import MigrationLoader
from django.db.utils import DatabaseError, OperationalError

from ..conf import dbgov_settings
from .describe import relative_path
from .errors import AnalysisError

__all__ = ["load_graph", "migration_file_of"]


def migration_file_of(exc: BaseException) -> str | None:
    """The innermost project file in an exception's traceback (or a SyntaxError's file)."""
    filename = getattr(exc, "filename", None)
    if isinstance(exc, SyntaxError) and filename:
        return f"{relative_path(Path(filename))}, line {exc.lineno}"
    django_dir = Path(django.__file__).resolve().parent
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if (
            django_dir not in path.parents
            and "importlib" not in path.parts
            and path.suffix == ".py"
        ):
            return f"{relative_path(path)}, line {frame.lineno}"
    return None


def _load(connection: Any | None) -> MigrationLoader:
    if connection is None:
        return MigrationLoader(None, ignore_no_migrations=True)
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                [f"{int(dbgov_settings.TARGET_LOCK_TIMEOUT_MS)}ms"],
            )
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        try:
            loader.check_consistent_history(connection)
        except InconsistentMigrationHistory as exc:
            raise AnalysisError(
                f"inconsistent migration history on {connection.alias!r}: {exc}"
            ) from exc
        return loader


def load_graph(connection: Any | None) -> MigrationLoader:
    """Django's MigrationLoader; ``connection`` None reads no database (nothing applied)."""
    alias = connection.alias if connection is not None else None
    try:
        loader = _load(connection)
    except AnalysisError:
        raise
    except OperationalError as exc:
        message = str(exc).strip()
        if "lock timeout" in message:
            raise AnalysisError(
                f"database {alias!r}: reading django_migrations timed out waiting for a lock "
                f"(DBGOV['TARGET_LOCK_TIMEOUT_MS']); is a migration running?"
            ) from exc
        raise AnalysisError(f"database {alias!r} does not answer: {message}") from exc
    except DatabaseError as exc:
        raise AnalysisError(f"database {alias!r}: {str(exc).strip()}") from exc
    except NodeNotFoundError as exc:
        raise AnalysisError(f"migration graph: {exc.message}") from exc
    except CircularDependencyError as exc:
        raise AnalysisError(f"migration graph has a dependency cycle: {exc}") from exc
    except BadMigrationError as exc:
        raise AnalysisError(str(exc)) from exc
    except Exception as exc:
        where = migration_file_of(exc) or "a migration module"
        raise AnalysisError(
            f"cannot import {where}: {type(exc).__name__}: {exc}".rstrip(": ")
        ) from exc
    conflicts = loader.detect_conflicts()
    if conflicts:
        details = "; ".join(
            f"app {app!r} has {len(names)} leaf migrations: {', '.join(sorted(names))}"
            for app, names in sorted(conflicts.items())
        )
        raise AnalysisError(
            f"conflicting migrations ({details}); merge them with `manage.py makemigrations --merge`"
        )
    return loader
