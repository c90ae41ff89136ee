"""Disposable databases, owned by the process that made them and reaped by ownership.

One module for every database dbgov creates only to drop it again: the plan's sandbox
databases and the rehearsals' copies of staging.

Ownership is what decides whether a leftover may be dropped, never a name prefix and an
age: several projects, checkouts and CI jobs may share one server. The owner

1. opens a connection to the server's maintenance database and takes a session-level
   advisory lock whose key is derived from the new database's name, *then*
2. creates the database and records who made it in its comment
   (``dbgov disposable {"purpose": …, "host": …, "pid": …, …}``),

and keeps that connection open as long as the database exists. When the owner dies —
killed, crashed, its machine gone — PostgreSQL ends its session and frees the lock. A
reaper drops a database only if it carries dbgov's comment *and* it can take that lock
itself, which proves the owner is gone; a live owner on any host is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql as pgsql

from .server import SandboxError, ServerAccess

__all__ = [
    "DisposableDatabase",
    "DisposableInfo",
    "create_database",
    "drop_database",
    "list_disposables",
    "reap",
]

logger = logging.getLogger("dbgov.sandbox")

COMMENT_TAG = "dbgov disposable "
# First half of every advisory lock key dbgov's disposable databases use ("dbsx").
_LOCK_CLASS = 0x64627378
_MAX_NAME = 63


def lock_key(name: str) -> tuple[int, int]:
    """The advisory lock (two int4 keys) that marks ``name``'s owner as alive."""
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
    return (_LOCK_CLASS, digest)


@dataclass(frozen=True)
class DisposableInfo:
    """A disposable database found on a server, with what its comment says."""

    name: str
    purpose: str
    host: str
    pid: int
    created: float
    alive: bool | None  # None when not checked

    @property
    def age_s(self) -> float:
        return time.time() - self.created


class DisposableDatabase:
    """A database this process created and owns; ``drop()`` (or the context) ends it."""

    def __init__(
        self, access: ServerAccess, name: str, owner: psycopg.Connection[Any], seconds: float
    ) -> None:
        self.access = access
        self.name = name
        self.seconds = seconds  # how long CREATE DATABASE took
        self._owner: psycopg.Connection[Any] | None = owner

    @property
    def alive(self) -> bool:
        return self._owner is not None

    def drop(self) -> None:
        if self._owner is None:
            return
        owner, self._owner = self._owner, None
        try:
            _drop(owner, self.name)
        finally:
            with contextlib.suppress(Exception):
                owner.close()

    def release_ownership(self) -> psycopg.Connection[Any] | None:
        """Hand the owner connection over (e.g. to turn the database into a template)."""
        owner, self._owner = self._owner, None
        return owner

    def __enter__(self) -> DisposableDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop()


def new_name(prefix: str, purpose: str) -> str:
    name = f"{prefix}{purpose}_{int(time.time())}_{secrets.token_hex(4)}"
    if len(name.encode()) > _MAX_NAME:
        raise SandboxError(f"database name {name!r} is longer than PostgreSQL's 63 bytes")
    return name


def create_database(
    access: ServerAccess,
    *,
    prefix: str,
    purpose: str,
    template: str | None = None,
    owner_role: str | None = None,
    strategy: str | None = None,
    name: str | None = None,
) -> DisposableDatabase:
    """Create a database owned by this process (see the module docstring)."""
    name = name or new_name(prefix, purpose)
    owner = access.connect(application_name=f"dbgov owner of {name}")
    try:
        k1, k2 = lock_key(name)
        owner.execute("SELECT pg_advisory_lock(%s, %s)", [k1, k2])
        statement = pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name))
        if template:
            statement += pgsql.SQL(" TEMPLATE {}").format(pgsql.Identifier(template))
        if owner_role:
            statement += pgsql.SQL(" OWNER {}").format(pgsql.Identifier(owner_role))
        if strategy:
            statement += pgsql.SQL(" STRATEGY {}").format(pgsql.SQL(strategy))
        started = time.perf_counter()
        owner.execute(statement)
        seconds = time.perf_counter() - started
        mark = {
            "purpose": purpose,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "created": time.time(),
        }
        owner.execute(
            pgsql.SQL("COMMENT ON DATABASE {} IS {}").format(
                pgsql.Identifier(name), pgsql.Literal(COMMENT_TAG + json.dumps(mark))
            )
        )
    except BaseException:
        with contextlib.suppress(Exception):
            _drop(owner, name)
        owner.close()
        raise
    return DisposableDatabase(access, name, owner, seconds)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(
        pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
    )


def drop_database(access: ServerAccess, name: str) -> bool:
    """Drop a disposable database by name if it is one (refuses any other database)."""
    with access.connect(application_name="dbgov drop") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        if row is None:
            return False
        if not str(row[0] or "").startswith(COMMENT_TAG):
            raise SandboxError(f"refusing to drop {name!r}: it is not a dbgov disposable database")
        _drop(conn, name)
    return True


def _parse(name: str, comment: str | None) -> DisposableInfo | None:
    if not comment or not comment.startswith(COMMENT_TAG):
        return None
    try:
        mark = json.loads(comment[len(COMMENT_TAG) :])
        return DisposableInfo(
            name=name,
            purpose=str(mark.get("purpose", "")),
            host=str(mark.get("host", "")),
            pid=int(mark.get("pid", 0)),
            created=float(mark.get("created", 0)),
            alive=None,
        )
    except (ValueError, TypeError, AttributeError):
        return None


def _owner_alive(conn: psycopg.Connection[Any], name: str) -> bool:
    """Whether some session holds the owner lock of ``name`` (read from pg_locks)."""
    k1, k2 = lock_key(name)
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND l.classid::bigint = (%s::bigint & 4294967295) "
        "AND l.objid::bigint = (%s::bigint & 4294967295) AND l.objsubid = 2 "
        "AND l.granted AND d.datname = current_database())",
        [k1, k2],
    ).fetchone()
    return bool(row and row[0])


def list_disposables(access: ServerAccess, prefix: str) -> list[DisposableInfo]:
    """Every dbgov disposable database named with ``prefix``, and whether its owner lives."""
    with access.connect(application_name="dbgov list") as conn:
        rows = conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE starts_with(datname, %s) ORDER BY datname",
            [prefix],
        ).fetchall()
        found = []
        for name, comment in rows:
            info = _parse(name, comment)
            if info is not None:
                alive = _owner_alive(conn, name)
                found.append(
                    DisposableInfo(
                        info.name, info.purpose, info.host, info.pid, info.created, alive
                    )
                )
    return found


def reap(access: ServerAccess, prefix: str) -> list[str]:
    """Drop the disposable databases named with ``prefix`` whose owner is gone.

    The reaper takes each owner lock itself before dropping, so a database whose owner
    lives (on any host) is never dropped, and two reapers never race.
    """
    dropped: list[str] = []
    with access.connect(application_name="dbgov reaper") as conn:
        rows = conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE starts_with(datname, %s)",
            [prefix],
        ).fetchall()
        for name, comment in rows:
            if _parse(name, comment) is None:
                continue  # not made by dbgov's disposable protocol: not ours to judge
            k1, k2 = lock_key(name)
            got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [k1, k2]).fetchone()
            if not (got and got[0]):
                continue
            try:
                _drop(conn, name)
                dropped.append(name)
            except psycopg.Error as exc:
                logger.warning("could not drop orphaned database %s: %s", name, exc)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", [k1, k2])
    return dropped


@contextlib.contextmanager
def disposable(access: ServerAccess, **kwargs: Any) -> Iterator[DisposableDatabase]:
    database = create_database(access, **kwargs)
    try:
        yield database
    finally:
        database.drop()
