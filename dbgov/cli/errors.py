"""One error path for every dbgov command: bad input becomes one clear line and exit 2.

Every ``manage.py dbgov`` subcommand and the gated ``migrate`` run inside
:func:`clear_errors`. Exceptions that mean "the input or the environment is wrong" — a
migration file that does not import, a graph with a conflict or a cycle, a database or a
broker that does not answer, dbgov's tables not migrated, a missing optional extra — are
turned into ``CommandError(one line naming the file or object, returncode=2)``, which
Django prints without a traceback. ``--traceback`` re-raises the original exception.

Anything else is a bug in dbgov or the project: it still ends with one line and exit 2,
and the line says to run again with ``--traceback``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError, CommandParser
from django.db.migrations.exceptions import (
    BadMigrationError,
    CircularDependencyError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)
from django.db.utils import DatabaseError, OperationalError, ProgrammingError

from ..extras import MissingExtra
from . import EXIT_ERROR

__all__ = ["OneLineParser", "clear_errors", "describe", "one_line", "task_key"]


def one_line(text: str) -> str:
    """Collapse a multi-line message (psycopg's, Django's) into one line."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _database_message(exc: DatabaseError, alias: str | None) -> str:
    where = f"database {alias!r}" if alias else "the database"
    text = one_line(str(exc))
    if isinstance(exc, ProgrammingError) and "dbgov_" in text and "does not exist" in text:
        return f"{where}: dbgov's tables are not migrated ({text}); run `manage.py migrate dbgov`"
    if isinstance(exc, OperationalError):
        return f"{where} does not answer: {text}"
    return f"{where}: {text}"


def describe(exc: BaseException, *, database: str | None = None) -> str | None:
    """One line naming the file or object for an exception that is bad input, else None."""
    from ..analysis.errors import AnalysisError
    from ..analysis.graph import migration_file_of
    from ..explain.readiness import RehearsalNotConfigured

    if isinstance(exc, AnalysisError | MissingExtra | ImproperlyConfigured):
        return one_line(str(exc))
    if isinstance(exc, RehearsalNotConfigured):
        return f"cannot rehearse: {one_line(str(exc))}"
    if isinstance(exc, NodeNotFoundError):
        return f"migration graph: {one_line(exc.message)}"
    if isinstance(exc, CircularDependencyError):
        return f"migration graph has a dependency cycle: {one_line(str(exc))}"
    if isinstance(exc, InconsistentMigrationHistory):
        return f"inconsistent migration history: {one_line(str(exc))}"
    if isinstance(exc, BadMigrationError):
        return one_line(str(exc))
    if isinstance(exc, DatabaseError):
        return _database_message(exc, database)
    if _is_broker_error(exc):
        from django.conf import settings

        broker = getattr(settings, "CELERY_BROKER_URL", None) or "the configured broker"
        return f"the Celery broker {broker} does not answer: {one_line(str(exc))}"
    if isinstance(exc, SyntaxError | ImportError):
        where = migration_file_of(exc)
        if where:
            return f"cannot import {where}: {type(exc).__name__}: {one_line(str(exc))}"
    return None


def _is_broker_error(exc: BaseException) -> bool:
    try:
        import kombu.exceptions
    except ImportError:
        return False
    return isinstance(exc, kombu.exceptions.OperationalError)


@contextmanager
def clear_errors(
    command: str,
    *,
    traceback: bool = False,
    database: str | None = None,
    own_command_errors: bool = True,
) -> Iterator[None]:
    """Run a command body; bad input leaves as ``CommandError(one line, returncode=2)``.

    ``own_command_errors``: CommandErrors raised inside (dbgov's, or Django's own from a
    command dbgov wraps, such as makemigrations' "Conflicting migrations") are errors
    too: one line, exit 2. ``migrate`` passes False: its refusal keeps its lines and exit 1.
    """
    try:
        yield
    except CommandError as exc:
        if traceback or not own_command_errors:
            raise
        raise CommandError(one_line(str(exc)), returncode=EXIT_ERROR) from exc
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if traceback:
            raise
        message = describe(exc, database=database)
        if message is None:
            message = (
                f"unexpected {type(exc).__name__}: {one_line(str(exc))} "
                "(run again with --traceback for the details)"
            )
        raise CommandError(f"{command}: {message}", returncode=EXIT_ERROR) from exc


class OneLineParser(CommandParser):
    """Django's parser, but a bad option prints one line (no usage block) and exits 2."""

    def error(self, message: str) -> NoReturn:
        if not getattr(self, "called_from_command_line", False):
            raise CommandError(f"Error: {message}", returncode=EXIT_ERROR)
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(EXIT_ERROR)


def task_key(value: str) -> str:
    """argparse type of ``--task``: ``T-`` and digits, else a clear one-line error."""
    from ..models.tasks import TASK_KEY_PATTERN

    if not re.match(TASK_KEY_PATTERN, value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a task key (T- followed by digits, e.g. T-021)"
        )
    return value
