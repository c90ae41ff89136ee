"""Template databases in the sandbox: the target's schema, loaded once, cloned per run.

A *schema template* holds the target's schema as ``pg_dump --schema-only`` reads it
(catalog reads and ACCESS SHARE locks only, with ``--lock-wait-timeout``: never queued
behind a migration's lock for long); it is keyed by the schema's fingerprint and the
applied migrations, so a repeat run clones it instead of reading the target again.
A *history template* holds what a set of applied migrations produces from an empty
database (``--since``, ``dbgov drift``). Both are plain databases whose comment says
``dbgov template {…}``; the least recently used beyond ``DBGOV["SANDBOX_TEMPLATES_KEEP"]``
are dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo

from ..conf import dbgov_settings
from .cluster import RENDER_ROLE
from .disposable import create_database, lock_key
from .server import SandboxError, SandboxServer, ServerAccess

__all__ = ["TemplateInfo", "ensure_schema_template", "list_templates", "save_as_template"]

TEMPLATE_TAG = "dbgov template "
# Extensions that open connections to other servers: never installed in the sandbox.
_NETWORK_EXTENSIONS = frozenset({"dblink", "postgres_fdw"})
# Archive entries the sandbox never restores (pg_restore -l "desc" column).
_SKIPPED_ENTRIES = ("EXTENSION", "COMMENT - EXTENSION", "USER MAPPING", "SERVER", "FOREIGN")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    kind: str  # "schema" or "history"
    key: str
    created: float
    last_used: float
    meta: dict[str, Any]


def prefix() -> str:
    return str(dbgov_settings.SANDBOX_DATABASE_PREFIX)


def template_name(key: str) -> str:
    return f"{prefix()}tpl_{key[:24]}"


def list_templates(access: ServerAccess) -> list[TemplateInfo]:
    with access.connect(application_name="dbgov templates") as conn:
        rows = conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE starts_with(datname, %s)",
            [prefix() + "tpl_"],
        ).fetchall()
    found = []
    for name, comment in rows:
        if comment and comment.startswith(TEMPLATE_TAG):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                meta = json.loads(comment[len(TEMPLATE_TAG) :])
                found.append(
                    TemplateInfo(
                        name=name,
                        kind=str(meta["kind"]),
                        key=str(meta["key"]),
                        created=float(meta["created"]),
                        last_used=float(meta.get("last_used", meta["created"])),
                        meta=meta,
                    )
                )
    return sorted(found, key=lambda t: -t.last_used)


def find_template(access: ServerAccess, key: str) -> TemplateInfo | None:
    for info in list_templates(access):
        if info.key == key:
            return info
    return None


def _set_comment(conn: psycopg.Connection[Any], name: str, meta: dict[str, Any]) -> None:
    conn.execute(
        pgsql.SQL("COMMENT ON DATABASE {} IS {}").format(
            pgsql.Identifier(name), pgsql.Literal(TEMPLATE_TAG + json.dumps(meta))
        )
    )


def touch(access: ServerAccess, info: TemplateInfo) -> None:
    with access.connect(application_name="dbgov templates") as conn:
        _set_comment(conn, info.name, {**info.meta, "last_used": time.time()})


def evict(access: ServerAccess, keep: int | None = None) -> list[str]:
    """Drop the least recently used templates beyond ``keep``."""
    keep = int(dbgov_settings.SANDBOX_TEMPLATES_KEEP if keep is None else keep)
    dropped = []
    with access.connect(application_name="dbgov templates") as conn:
        for info in list_templates(access)[keep:]:
            with contextlib.suppress(psycopg.Error):
                conn.execute(
                    pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        pgsql.Identifier(info.name)
                    )
                )
                dropped.append(info.name)
    return dropped


@contextlib.contextmanager
def _build_lock(access: ServerAccess, key: str) -> Iterator[None]:
    """One builder per template key; the others wait for it (in the sandbox only)."""
    conn = access.connect(application_name="dbgov template build lock")
    try:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", lock_key("template:" + key))
        yield
    finally:
        conn.close()


def _owner_role(server: SandboxServer) -> str | None:
    return RENDER_ROLE if server.kind == "embedded" else None


def _finish(
    server: SandboxServer, build_name: str, owner: Any, key: str, meta: dict[str, Any]
) -> str:
    name = template_name(key)
    with server.admin.connect(application_name="dbgov templates") as conn:
        conn.execute(
            pgsql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                pgsql.Identifier(build_name), pgsql.Identifier(name)
            )
        )
        now = time.time()
        _set_comment(conn, name, {**meta, "key": key, "created": now, "last_used": now})
    with contextlib.suppress(Exception):
        owner.close()
    evict(server.admin)
    return name


# -- schema templates: the target's schema ------------------------------------------------


def _pg_env(access: ServerAccess) -> tuple[str, dict[str, str]]:
    params = {k: v for k, v in access.params.items() if k != "password"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if access.params.get("password"):
        env["PGPASSWORD"] = str(access.params["password"])
    env["PGAPPNAME"] = "dbgov schema read"
    env["PGCONNECT_TIMEOUT"] = "10"
    return make_conninfo(**params), env


def dump_schema(server: SandboxServer, target: ServerAccess, dbname: str, folder: Path) -> Path:
    """``pg_dump --schema-only`` of the target into a custom-format archive."""
    if server.binaries is None:
        raise SandboxError(
            "reading the target's schema needs pg_dump (PostgreSQL client binaries of the "
            'target\'s version or newer): install them, or `pip install "dbgov[sandbox]"`'
        )
    conninfo, env = _pg_env(target)
    archive = folder / "schema.dump"
    args = [
        str(server.binaries.tool("pg_dump")),
        "--schema-only",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        "--no-tablespaces",
        "--no-security-labels",
        "--no-publications",
        "--no-subscriptions",
        f"--lock-wait-timeout={int(dbgov_settings.TARGET_LOCK_TIMEOUT_MS)}",
        f"--file={archive}",
    ]
    if server.binaries.major >= 18:
        args.append("--no-statistics")
    args.append(f"--dbname={make_conninfo(conninfo, dbname=dbname)}")
    try:
        subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr or "").strip().replace("pg_dump: error: ", "")
        if "could not obtain lock" in message or "lock timeout" in message:
            raise SandboxError(
                f"reading the target's schema timed out waiting for a lock "
                f"(DBGOV['TARGET_LOCK_TIMEOUT_MS'] = {dbgov_settings.TARGET_LOCK_TIMEOUT_MS}): "
                f"another session holds or waits for an exclusive lock: {message}"
            ) from exc
        raise SandboxError(f"pg_dump could not read the target's schema: {message}") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"pg_dump could not run: {exc}") from exc
    return archive


def _restore_list(server: SandboxServer, archive: Path, folder: Path) -> Path:
    assert server.binaries is not None
    listing = subprocess.run(
        [str(server.binaries.tool("pg_restore")), "--list", str(archive)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    kept = []
    for line in listing.splitlines():
        entry = line.split(";", 1)
        if len(entry) == 2 and not line.startswith(";"):
            # "215; 1259 16385 TABLE public shop_products owner": the desc follows the ids
            desc = " ".join(entry[1].split()[2:])
            if desc.startswith(_SKIPPED_ENTRIES):
                continue
        kept.append(line)
    path = folder / "restore.list"
    path.write_text("\n".join(kept) + "\n")
    return path


def _create_extensions(
    server: SandboxServer, dbname: str, extensions: list[tuple[str, str]]
) -> None:
    """Install the target's extensions in the template, as the sandbox's admin."""
    missing = []
    with server.admin.connect(dbname, application_name="dbgov extensions") as conn:
        available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions")}
        for name, schema in extensions:
            if name in _NETWORK_EXTENSIONS or name == "plpgsql":
                continue
            if name not in available:
                missing.append(name)
                continue
            conn.execute(
                pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema))
            )
            conn.execute(
                pgsql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}").format(
                    pgsql.Identifier(name), pgsql.Identifier(schema)
                )
            )
    if missing:
        raise SandboxError(
            f"the target uses extension(s) {', '.join(sorted(missing))}, which the sandbox's "
            f"PostgreSQL ({server.describe()}) does not have: install them for it, or set "
            "DBGOV['SANDBOX_URL'] to a server that has them"
        )


def _grant_render(server: SandboxServer, dbname: str) -> None:
    if server.kind != "embedded":
        return
    with server.admin.connect(dbname, application_name="dbgov templates") as conn:
        conn.execute(
            pgsql.SQL("GRANT CREATE, CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                pgsql.Identifier(dbname), pgsql.Identifier(RENDER_ROLE)
            )
        )
        conn.execute(
            pgsql.SQL("GRANT CREATE, USAGE ON SCHEMA public TO {}").format(
                pgsql.Identifier(RENDER_ROLE)
            )
        )


def ensure_schema_template(
    server: SandboxServer,
    *,
    key: str,
    target: ServerAccess,
    target_dbname: str,
    extensions: list[tuple[str, str]],
    progress: Progress,
) -> str:
    """The template holding the target's schema for ``key``; built when missing."""
    found = find_template(server.admin, key)
    if found is not None:
        touch(server.admin, found)
        return found.name
    with _build_lock(server.admin, key):
        found = find_template(server.admin, key)
        if found is not None:
            return found.name
        progress("reading the target's schema (pg_dump --schema-only) into the sandbox")
        build = create_database(server.admin, prefix=prefix(), purpose="tplbuild")
        try:
            _grant_render(server, build.name)
            _create_extensions(server, build.name, extensions)
            with tempfile.TemporaryDirectory(prefix="dbgov-schema-") as tmp:
                folder = Path(tmp)
                archive = dump_schema(server, target, target_dbname, folder)
                _restore(server, archive, folder, build.name)
        except BaseException:
            build.drop()
            raise
        owner = build.release_ownership()
        return _finish(server, build.name, owner, key, {"kind": "schema"})


# Per-column options (ALTER TABLE … ALTER COLUMN … SET (…)) are planner hints, or
# settings a patched server of the target's may add: rendering never depends on them, and
# another server version may not know them. They are left out of the sandbox's copy.
_COLUMN_OPTIONS = re.compile(r"^ALTER TABLE (ONLY )?.+ ALTER COLUMN .+ SET \(.*\);$")


def _restore(server: SandboxServer, archive: Path, folder: Path, dbname: str) -> None:
    """Load the archive into ``dbname``: as plain SQL through psql, in one transaction."""
    assert server.binaries is not None
    listing = _restore_list(server, archive, folder)
    script = folder / "schema.sql"
    try:
        subprocess.run(
            [
                str(server.binaries.tool("pg_restore")),
                "--no-owner",
                "--no-privileges",
                "--no-tablespaces",
                f"--use-list={listing}",
                f"--file={script}",
                str(archive),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    except subprocess.CalledProcessError as exc:
        raise SandboxError(f"pg_restore could not read the schema: {exc.stderr.strip()}") from exc
    lines = script.read_text().splitlines()
    kept = [line for line in lines if not _COLUMN_OPTIONS.match(line)]
    if server.kind == "embedded":
        # Everything the schema creates belongs to the role migrations run as.
        kept.insert(0, f"SET ROLE {RENDER_ROLE};")
    script.write_text("\n".join(kept) + "\n")
    conninfo, env = _pg_env(server.admin)
    args = [
        str(server.binaries.tool("psql")),
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        "--single-transaction",
        f"--file={script}",
        f"--dbname={make_conninfo(conninfo, dbname=dbname)}",
    ]
    try:
        subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr or "").strip()
        raise SandboxError(
            f"the target's schema could not be loaded into the sandbox ({server.describe()}): "
            f"{message[-1500:]}"
        ) from exc


# -- history templates: what applied migrations produce -------------------------------------


def save_as_template(server: SandboxServer, source: str, *, key: str, meta: dict[str, Any]) -> str:
    """Copy the database ``source`` (nobody may be connected to it) into a template."""
    with _build_lock(server.admin, key):
        found = find_template(server.admin, key)
        if found is not None:
            return found.name
        build = create_database(server.admin, prefix=prefix(), purpose="tplbuild", template=source)
        owner = build.release_ownership()
        return _finish(server, build.name, owner, key, {**meta, "kind": "history"})
