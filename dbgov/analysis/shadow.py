"""Disposable shadow databases: where dbgov renders SQL instead of the target.

Django introspects the live database for some operations (dropping a constraint it
has to look up by name, for instance), so exact SQL needs a database in the right
schema state at every step. The target must not be changed or locked, so dbgov
creates an empty database on the same server (same version, same extensions
available), replays the history on it and drops it afterwards, always.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import DatabaseError

from ..conf import dbgov_settings
from .errors import AnalysisError

logger = logging.getLogger("dbgov.shadow")

# A killed process leaves its shadow behind; older ones are dropped on the next run.
ORPHAN_AGE_S = 3600


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _prefix() -> str:
    return str(dbgov_settings.SHADOW_DATABASE_PREFIX)


def reap_orphans(alias: str, *, max_age_s: float = ORPHAN_AGE_S) -> list[str]:
    """Drop shadow databases older than ``max_age_s`` (left behind by killed runs)."""
    prefix = _prefix()
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)_")
    dropped: list[str] = []
    with connections[alias]._nodb_cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix])
        names = [row[0] for row in cursor.fetchall()]
        now = time.time()
        for name in names:
            match = pattern.match(name)
            if match and now - int(match.group(1)) > max_age_s:
                with contextlib.suppress(DatabaseError):
                    cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)}")
                    dropped.append(name)
    return dropped


@contextlib.contextmanager
def shadow_database(alias: str) -> Iterator[BaseDatabaseWrapper]:
    """Yield a connection, under the *same alias*, to a new empty database.

    Keeping the alias matters: routers decide per alias, and Django's schema editor
    opens transactions with ``atomic(connection.alias)``. The caller swaps it into
    ``connections[alias]`` for the duration of the rendering (see render.py).
    """
    target = connections[alias]
    if target.vendor != "postgresql":
        raise AnalysisError(
            f"database {alias!r} is not PostgreSQL ({target.vendor}); dbgov needs PostgreSQL"
        )
    name = f"{_prefix()}{int(time.time())}_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with contextlib.suppress(DatabaseError):
            reap_orphans(alias)
        with target._nodb_cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {_quote(name)}")
    except DatabaseError as exc:
        raise AnalysisError(
            f"cannot create the shadow database on the server of {alias!r}: {exc}".strip()
            + " (dbgov renders SQL on a disposable database; the role needs CREATEDB)"
        ) from exc
    settings_dict: dict[str, Any] = copy.deepcopy(connections.settings[alias])
    settings_dict["NAME"] = name
    options = dict(settings_dict.get("OPTIONS") or {})
    # Nothing here needs durability: skip the fsync of every commit.
    options["options"] = (str(options.get("options", "")) + " -c synchronous_commit=off").strip()
    settings_dict["OPTIONS"] = options
    settings_dict["CONN_MAX_AGE"] = None
    shadow = type(target)(settings_dict, alias)
    try:
        yield shadow
    finally:
        with contextlib.suppress(Exception):
            shadow.close()
        _drop(target, name)


def _drop(target: BaseDatabaseWrapper, name: str) -> None:
    force = " WITH (FORCE)" if (target.pg_version or 0) >= 130000 else ""  # type: ignore[attr-defined]
    try:
        with target._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)}{force}")
    except DatabaseError as exc:  # pragma: no cover - reported, reaped next run
        logger.warning("could not drop shadow database %s: %s", name, exc)
