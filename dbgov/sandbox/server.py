"""Where disposable databases live, and how dbgov connects there.

``ServerAccess`` is a set of libpq connection parameters (without a database name) for
one role on one server. ``SandboxServer`` is the server migration SQL runs on, with two
accesses: ``admin`` creates and drops databases, ``render`` runs migrations. It is one of

- ``embedded`` (the default): a private cluster dbgov starts itself (cluster.py);
- ``dedicated``: ``DBGOV["SANDBOX_URL"]``, a server that holds no data (a CI service
  container, a throwaway server); its role needs CREATEDB and should not be a superuser;
- ``target-server``: the target's own server, only with
  ``DBGOV["SANDBOX_ON_TARGET_SERVER"] = True`` — pending, unreviewed migration SQL then
  runs there with the target's role (see docs/sandbox.md for what that risks).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connections
from psycopg.conninfo import conninfo_to_dict

from ..conf import dbgov_settings
from .binaries import Binaries, BinariesNotFound, choose
from .cluster import ADMIN_ROLE, RENDER_ROLE, ClusterError, EmbeddedCluster

__all__ = ["SandboxError", "SandboxServer", "ServerAccess", "open_sandbox_server"]

logger = logging.getLogger("dbgov.sandbox")

_LIBPQ_KEYS = {
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "passfile",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "service",
    "target_session_attrs",
    "connect_timeout",
    "options",
    "channel_binding",
    "gssencmode",
    "krbsrvname",
}


class SandboxError(Exception):
    """The sandbox could not be reached, started or used."""


@dataclass(frozen=True)
class ServerAccess:
    """libpq parameters for one role on one server (no database name)."""

    params: dict[str, Any]
    label: str
    maintenance_db: str = "postgres"

    def connect(
        self, dbname: str | None = None, *, autocommit: bool = True, application_name: str = ""
    ) -> psycopg.Connection[tuple[Any, ...]]:
        params = {"connect_timeout": 10, **self.params}
        try:
            return psycopg.connect(
                **params,
                dbname=dbname or self.maintenance_db,
                autocommit=autocommit,
                application_name=application_name or "dbgov",
            )
        except psycopg.OperationalError as exc:
            raise SandboxError(
                f"cannot connect to {self.label} (database {dbname or self.maintenance_db!r}): "
                f"{str(exc).strip()}"
            ) from exc

    @classmethod
    def from_alias(cls, alias: str, *, maintenance_db: str = "postgres") -> ServerAccess:
        """The server of a Django database alias, as that alias's role."""
        params = dict(connections[alias].get_connection_params())
        kept = {k: v for k, v in params.items() if k in _LIBPQ_KEYS and v not in (None, "")}
        host = kept.get("host") or "local socket"
        return cls(
            kept, label=f"the server of alias {alias!r} ({host})", maintenance_db=maintenance_db
        )

    @classmethod
    def from_url(cls, url: str, *, label: str) -> ServerAccess:
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise SandboxError(f"{label}: not a valid connection URL: {exc}") from exc
        dbname = str(params.pop("dbname", "") or "postgres")
        kept = {k: v for k, v in params.items() if k in _LIBPQ_KEYS}
        return cls(kept, label=label, maintenance_db=dbname)


@dataclass
class SandboxServer:
    """The server pending migrations are rendered on."""

    kind: str  # "embedded", "dedicated" or "target-server"
    admin: ServerAccess
    render: ServerAccess
    version_num: int
    # The binaries whose pg_dump / pg_restore read and load schemas (None: none found).
    binaries: Binaries | None = None
    cluster: EmbeddedCluster | None = None
    admin_is_superuser: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def major(self) -> int:
        return self.version_num // 10000

    def describe(self) -> str:
        version = f"PostgreSQL {self.major}"
        if self.kind == "embedded" and self.cluster is not None:
            return f"embedded sandbox, {version} ({self.cluster.root})"
        if self.kind == "dedicated":
            return f"dedicated sandbox server, {version} ({self.admin.label})"
        return f"the target's own server, {version} (SANDBOX_ON_TARGET_SERVER)"

    def django_settings(self, base: dict[str, Any], dbname: str) -> dict[str, Any]:
        """A Django DATABASES entry for ``dbname`` on this server, as the render role.

        The engine stays the target's (a PostGIS or custom backend renders its own
        SQL); connection options of the target (pools, roles, SSL) do not carry over.
        """
        settings_dict = copy.deepcopy(base)
        params = self.render.params
        settings_dict.update(
            NAME=dbname,
            USER=params.get("user", ""),
            PASSWORD=params.get("password", ""),
            HOST=params.get("host", ""),
            PORT=str(params.get("port", "") or ""),
            CONN_MAX_AGE=None,
            CONN_HEALTH_CHECKS=False,
            AUTOCOMMIT=True,
            ATOMIC_REQUESTS=False,
        )
        options = {
            k: v
            for k, v in params.items()
            if k not in ("host", "port", "user", "password", "dbname")
        }
        settings_dict["OPTIONS"] = options
        settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": None}
        return settings_dict


def _version_and_superuser(access: ServerAccess) -> tuple[int, bool]:
    with access.connect(application_name="dbgov sandbox probe") as conn:
        row = conn.execute(
            "SELECT current_setting('server_version_num')::int, rolsuper "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def _binaries_for(target_major: int | None) -> Binaries | None:
    with contextlib.suppress(BinariesNotFound):
        return choose(target_major)
    return None


def open_sandbox_server(target_alias: str | None, target_major: int | None) -> SandboxServer:
    """The sandbox server the settings name, started when it is the embedded one."""
    url = dbgov_settings.SANDBOX_URL
    if url:
        access = ServerAccess.from_url(str(url), label="DBGOV['SANDBOX_URL']")
        version, superuser = _version_and_superuser(access)
        server = SandboxServer(
            kind="dedicated",
            admin=access,
            render=access,
            version_num=version,
            binaries=_binaries_for(target_major),
            admin_is_superuser=superuser,
        )
        if superuser:
            server.warnings.append(
                "the sandbox role of DBGOV['SANDBOX_URL'] is a superuser: pending migrations "
                "run there with every privilege (use a role with CREATEDB only)"
            )
        return server
    if dbgov_settings.SANDBOX_ON_TARGET_SERVER:
        if target_alias is None:
            raise SandboxError("SANDBOX_ON_TARGET_SERVER needs a target database alias")
        access = ServerAccess.from_alias(target_alias)
        version, superuser = _version_and_superuser(access)
        server = SandboxServer(
            kind="target-server",
            admin=access,
            render=access,
            version_num=version,
            binaries=_binaries_for(target_major),
            admin_is_superuser=superuser,
        )
        server.warnings.append(
            "DBGOV['SANDBOX_ON_TARGET_SERVER'] is on: pending, unreviewed migration SQL runs "
            f"on the server of {target_alias!r} with its role, in a disposable database"
        )
        return server
    try:
        binaries = choose(target_major)
    except BinariesNotFound as exc:
        raise SandboxError(str(exc)) from exc
    cluster = EmbeddedCluster(binaries)
    try:
        cluster.ensure_running()
    except ClusterError as exc:
        raise SandboxError(f"the embedded sandbox did not start: {exc}") from exc
    conninfo = cluster.conninfo()
    admin = ServerAccess(
        {"host": conninfo["host"], "port": conninfo["port"], "user": ADMIN_ROLE},
        label=f"the embedded sandbox ({cluster.root})",
    )
    render = ServerAccess(
        {"host": conninfo["host"], "port": conninfo["port"], "user": RENDER_ROLE},
        label=f"the embedded sandbox ({cluster.root}) as {RENDER_ROLE}",
    )
    server = SandboxServer(
        kind="embedded",
        admin=admin,
        render=render,
        version_num=binaries.major * 10000,
        binaries=binaries,
        cluster=cluster,
        admin_is_superuser=True,
    )
    with admin.connect() as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
        server.version_num = int(row[0]) if row else server.version_num
    return server
