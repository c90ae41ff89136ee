"""scripts/services.sh: configured servers when they answer, private instances otherwise."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = REPO_ROOT / "scripts" / "services.sh"

pytestmark = pytest.mark.slow


def unused_port() -> int:
    """A loopback port nothing listens on (bound and released: nobody takes it in between)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def services(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SERVICES), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def exported(stdout: str) -> dict[str, str]:
    """The `export NAME=value` lines that `services.sh start` prints."""
    result = {}
    for line in stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        result[name] = shlex.split(value)[0]
    return result


def pg_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


@pytest.fixture
def absent_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment whose configured PostgreSQL and Redis do not answer."""
    pg_port, redis_port = unused_port(), unused_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/dbgov_infra_check",
        "STAGING_DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/dbgov_infra_check_st",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/3",
        "DBGOV_SERVICES_DIR": str(tmp_path / "services"),
        # Away from the default ports, where a developer's private instances may run.
        "DBGOV_PG_PORT": "57432",
        "DBGOV_REDIS_PORT": "57379",
    }
    env.pop("DBGOV_SERVICES", None)
    yield env
    services("clean", env=env)


def test_private_instances_start_when_configured_services_are_absent(
    absent_env: dict[str, str], tmp_path: Path
) -> None:
    first = services("start", env=absent_env)
    assert first.returncode == 0, first.stderr
    urls = exported(first.stdout)
    assert set(urls) == {"DATABASE_URL", "STAGING_DATABASE_URL", "REDIS_URL"}

    # The URLs now point at private instances: same database names and Redis db.
    pg_port = int(urls["DATABASE_URL"].split(":")[-1].split("/")[0])
    assert urls["DATABASE_URL"] == f"postgres://postgres@127.0.0.1:{pg_port}/dbgov_infra_check"
    assert urls["STAGING_DATABASE_URL"].endswith(f":{pg_port}/dbgov_infra_check_st")
    assert urls["REDIS_URL"].startswith("redis://127.0.0.1:") and urls["REDIS_URL"].endswith("/3")
    assert pg_port >= 57432

    # A real PostgreSQL that initdb created for us, tuned for disposable data.
    server = urls["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        data_dir = conn.execute("SHOW data_directory").fetchone()[0]
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        conn.execute("CREATE DATABASE dbgov_infra_check")
    with psycopg.connect(urls["DATABASE_URL"]) as conn:
        conn.execute("CREATE TABLE t (id int)")
        conn.execute("INSERT INTO t VALUES (42)")
        assert conn.execute("SELECT id FROM t").fetchone() == (42,)
    services_dir = Path(absent_env["DBGOV_SERVICES_DIR"])
    location = services_dir / "postgres.location"
    pg_dir = Path(location.read_text().strip()) if location.exists() else services_dir / "postgres"
    assert Path(data_dir) == pg_dir / "data"

    # A real Redis that keeps nothing on disk.
    client = redis.Redis.from_url(urls["REDIS_URL"])
    assert client.ping()
    client.set("dbgov-infra-check", "1")
    assert client.get("dbgov-infra-check") == b"1"
    assert client.config_get("save") == {"save": ""}
    client.close()

    # A second run reuses both instances instead of starting new ones.
    second = services("start", env=absent_env)
    assert second.returncode == 0, second.stderr
    assert exported(second.stdout) == urls
    assert "reusing the private instance" in second.stderr
    assert "initdb" not in second.stderr

    status = services("status", env=absent_env)
    assert f"private PostgreSQL    running on 127.0.0.1:{pg_port}" in status.stdout

    # `stop` stops them; their data stays for the next start.
    stopped = services("stop", env=absent_env)
    assert stopped.returncode == 0, stopped.stderr
    assert not pg_answers(server)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(urls["REDIS_URL"], socket_connect_timeout=2).ping()
    assert (pg_dir / "data" / "PG_VERSION").exists()

    again = services("start", env=absent_env)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(exported(again.stdout)["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT id FROM t").fetchone() == (42,)


def test_configured_services_are_used_when_they_answer(tmp_path: Path) -> None:
    from django.conf import settings

    default = settings.DATABASES["default"]
    url = f"postgres://{default['USER']}@{default['HOST']}:{default['PORT']}/{default['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "STAGING_DATABASE_URL": url + "_staging",
        "REDIS_URL": settings.REDIS_URL,
        "DBGOV_SERVICES_DIR": str(tmp_path / "services"),
    }
    env.pop("DBGOV_SERVICES", None)
    result = services("start", env=env)
    assert result.returncode == 0, result.stderr
    assert exported(result.stdout) == {
        "DATABASE_URL": url,
        "STAGING_DATABASE_URL": url + "_staging",
        "REDIS_URL": settings.REDIS_URL,
    }
    assert "private" not in result.stderr
    assert not (tmp_path / "services").exists()


def test_external_mode_refuses_to_start_private_instances(absent_env: dict[str, str]) -> None:
    result = services("start", env={**absent_env, "DBGOV_SERVICES": "external"})
    assert result.returncode == 1
    assert "PostgreSQL does not answer at DATABASE_URL STAGING_DATABASE_URL" in result.stderr
    assert result.stdout == ""
    assert not Path(absent_env["DBGOV_SERVICES_DIR"]).exists()
