"""Disposable copies of the staging database: create, connect, drop, reap.

A copy is made with ``CREATE DATABASE <copy> TEMPLATE <staging>``: PostgreSQL copies
the database's files, which is far faster than dump and restore but needs staging to
have no other session while it runs. Copies are named

    <COPY_PREFIX><installation tag>_<run id>_<unix time of creation>

for people reading ``pg_database``. What decides whether a copy may be dropped is not
its name or its age but its owner: copies are disposable databases
(dbgov.sandbox.disposable), owned by the worker process that made them through an
advisory lock it holds while the copy exists. A copy whose worker died is dropped by the
next reaper; a live worker's copy never is, whichever host or installation made it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from dbgov.conf import dbgov_settings
from dbgov.sandbox.disposable import (
    DisposableDatabase,
    create_database,
    drop_database,
    list_disposables,
    reap,
)
from dbgov.sandbox.server import SandboxError, ServerAccess

__all__ = [
    "CopyError",
    "NotStaging",
    "StagingBusy",
    "StagingUnreachable",
    "StagingCopy",
    "copy_alias",
    "create_copy",
    "drop_copy",
    "ensure_staging",
    "installation_tag",
    "is_copy_alias",
    "list_copies",
    "parse_copy_name",
    "reap_copies",
]

MAINTENANCE_DB = "postgres"


class CopyError(Exception):
    """A copy of staging could not be made or dropped."""


class NotStaging(CopyError):
    """An alias other than DBGOV["STAGING_DATABASE"] was asked for."""


class StagingBusy(CopyError):
    """Staging has other sessions, so PostgreSQL refuses to use it as a template."""


class StagingUnreachable(CopyError):
    """The staging server could not be reached."""


def ensure_staging(alias: str) -> str:
    """Return ``alias`` if it is the staging alias; refuse anything else.

    EXPLAIN ANALYZE executes the query and a rehearsal applies migrations, so dbgov
    only ever does either on a copy of the staging alias (DBGOV["STAGING_DATABASE"]).
    """
    staging = dbgov_settings.STAGING_DATABASE
    if alias != staging:
        raise NotStaging(
            f"dbgov rehearses and runs EXPLAIN ANALYZE only on a copy of the staging "
            f"alias {staging!r} (DBGOV['STAGING_DATABASE']); refusing alias {alias!r}."
        )
    if alias not in settings.DATABASES:
        raise NotStaging(
            f"The staging alias {alias!r} (DBGOV['STAGING_DATABASE']) is not in DATABASES."
        )
    if connections[alias].vendor != "postgresql":
        raise NotStaging(f"The staging alias {alias!r} is not a PostgreSQL database.")
    return alias


def installation_tag() -> str:
    """8 hex digits naming this installation (its default database) in copy names."""
    default = settings.DATABASES["default"]
    ident = f"{default.get('HOST')}:{default.get('PORT')}/{default.get('NAME')}"
    return hashlib.sha1(ident.encode()).hexdigest()[:8]


_NAME_RE = re.compile(r"^(?P<tag>[0-9a-f]{8})_(?P<run>\d+)_(?P<ts>\d{10,})$")


@dataclass(frozen=True)
class CopyName:
    name: str
    tag: str
    run_id: int
    created: int
    # Whether the process that made it still holds it (None: not checked).
    owner_alive: bool | None = None

    @property
    def age_s(self) -> float:
        return time.time() - self.created


def parse_copy_name(name: str) -> CopyName | None:
    prefix = dbgov_settings.COPY_PREFIX
    if not name.startswith(prefix):
        return None
    m = _NAME_RE.match(name[len(prefix) :])
    if not m:
        return None
    return CopyName(name, m["tag"], int(m["run"]), int(m["ts"]))


def copy_name_for(run_id: int) -> str:
    name = f"{dbgov_settings.COPY_PREFIX}{installation_tag()}_{run_id}_{int(time.time())}"
    if len(name) > 63:
        raise CopyError(f"Copy name {name!r} is longer than PostgreSQL's 63 characters.")
    return name


def _server_params(alias: str, dbname: str) -> dict[str, Any]:
    params = dict(connections[alias].get_connection_params())
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    params["dbname"] = dbname
    params.setdefault("connect_timeout", 10)
    return params


def connect_raw(alias: str, dbname: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A plain psycopg connection to ``dbname`` on the server of ``alias``."""
    try:
        return psycopg.connect(**_server_params(alias, dbname), autocommit=autocommit)
    except psycopg.OperationalError as exc:
        host = connections[alias].settings_dict.get("HOST") or "local socket"
        raise StagingUnreachable(
            f"Cannot connect to the staging server of alias {alias!r} "
            f"({host}, database {dbname!r}): {str(exc).strip()}"
        ) from exc


@contextlib.contextmanager
def maintenance_connection(alias: str) -> Iterator[psycopg.Connection[Any]]:
    conn = connect_raw(alias, MAINTENANCE_DB)
    try:
        yield conn
    finally:
        conn.close()


def _other_sessions(conn: psycopg.Connection[Any], dbname: str) -> list[str]:
    rows = conn.execute(
        "SELECT pid, usename, application_name, state, client_addr::text "
        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [dbname],
    ).fetchall()
    return [
        f"pid {pid} ({user or '?'}, {app or 'no application_name'}, {state or '?'}"
        f"{', from ' + addr if addr else ''})"
        for pid, user, app, state, addr in rows
    ]


@dataclass
class StagingCopy:
    """A copy of staging that exists on the server."""

    alias: str  # the staging alias it was copied from
    source: str  # staging's database name
    name: str  # the copy's database name
    seconds: float  # how long CREATE DATABASE … TEMPLATE took


# Copies this process owns (their owner connection holds the advisory lock).
_OWNED: dict[str, DisposableDatabase] = {}


def staging_access(alias: str) -> ServerAccess:
    return ServerAccess.from_alias(alias, maintenance_db=MAINTENANCE_DB)


def create_copy(run_id: int, alias: str | None = None) -> StagingCopy:
    """``CREATE DATABASE <copy> TEMPLATE <staging>``; a clear error if staging is busy."""
    alias = ensure_staging(alias or dbgov_settings.STAGING_DATABASE)
    source = connections[alias].settings_dict["NAME"]
    name = copy_name_for(run_id)
    access = staging_access(alias)
    strategy = dbgov_settings.COPY_STRATEGY
    if strategy and str(strategy).upper() not in {"WAL_LOG", "FILE_COPY"}:
        raise CopyError(
            f"DBGOV['COPY_STRATEGY'] must be None, 'WAL_LOG' or 'FILE_COPY', not {strategy!r}."
        )
    try:
        database = create_database(
            access,
            prefix=dbgov_settings.COPY_PREFIX,
            purpose=f"rehearsal of run {run_id}",
            template=source,
            strategy=str(strategy).upper() if strategy else None,
            name=name,
        )
    except SandboxError as exc:
        raise StagingUnreachable(
            f"Cannot connect to the staging server of alias {alias!r}: {exc}"
        ) from exc
    except psycopg.errors.ObjectInUse as exc:
        with maintenance_connection(alias) as conn:
            sessions = _other_sessions(conn, source)
        listed = "; ".join(sessions) if sessions else "(they ended meanwhile)"
        raise StagingBusy(
            f"Cannot copy staging database {source!r} (alias {alias!r}): PostgreSQL "
            f"copies a template database only while nobody else is connected to it, "
            f"and it has {len(sessions)} other session(s): {listed}. Close them "
            f"(or point long-lived clients elsewhere) and rehearse again."
        ) from exc
    except psycopg.errors.InvalidCatalogName as exc:
        raise StagingUnreachable(
            f"The staging database {source!r} (alias {alias!r}) does not exist."
        ) from exc
    _OWNED[name] = database
    return StagingCopy(alias=alias, source=source, name=name, seconds=database.seconds)


def drop_copy(alias: str, name: str) -> bool:
    """Drop a copy (terminating its sessions). Refuses names that are not copies."""
    if parse_copy_name(name) is None:
        raise CopyError(f"Refusing to drop {name!r}: it is not named like a dbgov copy.")
    copy_alias_name = copy_alias(name)
    if copy_alias_name in connections.settings:
        release_copy_alias(copy_alias_name)
    owned = _OWNED.pop(name, None)
    if owned is not None:
        owned.drop()
        return True
    try:
        return drop_database(staging_access(alias), name)
    except SandboxError as exc:
        raise CopyError(str(exc)) from exc


def list_copies(alias: str | None = None) -> list[CopyName]:
    """Every dbgov copy on the staging server (any installation), with its owner's state."""
    alias = ensure_staging(alias or dbgov_settings.STAGING_DATABASE)
    try:
        found = list_disposables(staging_access(alias), dbgov_settings.COPY_PREFIX)
    except SandboxError as exc:
        raise StagingUnreachable(str(exc)) from exc
    copies = []
    for info in found:
        parsed = parse_copy_name(info.name)
        if parsed is not None:
            copies.append(
                CopyName(parsed.name, parsed.tag, parsed.run_id, parsed.created, info.alive)
            )
    return copies


def reap_copies(alias: str | None = None) -> list[str]:
    """Drop the copies whose owning worker is gone (see the module docstring)."""
    alias = ensure_staging(alias or dbgov_settings.STAGING_DATABASE)
    try:
        return reap(staging_access(alias), dbgov_settings.COPY_PREFIX)
    except SandboxError as exc:
        raise StagingUnreachable(str(exc)) from exc


# Django connections to copies ------------------------------------------------------


def copy_alias(name: str) -> str:
    """The connection alias a copy is reached under (starts with DBGOV["COPY_PREFIX"])."""
    return name


def is_copy_alias(alias: str) -> bool:
    """True for the aliases of dbgov's copies; routers can treat them like staging."""
    return parse_copy_name(alias) is not None


def register_copy_alias(copy: StagingCopy) -> BaseDatabaseWrapper:
    """Register a Django connection alias for the copy (staging's settings, copy's NAME)."""
    alias = copy_alias(copy.name)
    settings_dict = dict(connections[copy.alias].settings_dict)
    settings_dict["NAME"] = copy.name
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": None}
    connections.settings[alias] = settings_dict
    return connections[alias]


def release_copy_alias(alias: str) -> None:
    if alias in connections.settings:
        with contextlib.suppress(Exception):
            connections[alias].close()
        with contextlib.suppress(AttributeError, KeyError):
            del connections[alias]
        connections.settings.pop(alias, None)
