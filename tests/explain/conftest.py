"""Fixtures of the explain tests: a seeded staging test database and real Celery workers.

The worker is a real ``celery -A project worker`` subprocess on the real Redis broker
(REDIS_URL). It reaches the same test databases as this process through
DATABASE_URL / STAGING_DATABASE_URL, so tests that talk to it use committed data
(``transactional_db``).

The staging test database is built here rather than by pytest-django: it must sit at
shop 0002 (T-021's index migration pending) with 100K orders, loaded with COPY by
``manage.py seed_orders`` exactly as the demo does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.test import override_settings
from psycopg import sql as pgsql

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SEED_ORDERS = int(os.environ.get("DBGOV_TEST_STAGING_ORDERS", "100000"))
# A queue of this test session's own: no other worker on the same broker takes its runs.
QUEUE = f"dbgov.rehearsal.test{os.getpid()}"


def _url(db: dict[str, Any], name: str) -> str:
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def _admin_conn(db: dict[str, Any]) -> psycopg.Connection[Any]:
    return psycopg.connect(
        dbname="postgres",
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        autocommit=True,
    )


def copies_on_server() -> list[str]:
    """Every dbgov copy of this installation on the staging server."""
    from dbgov.explain.copy import installation_tag

    with _admin_conn(settings.DATABASES["staging"]) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [settings.DBGOV.get("COPY_PREFIX", "dbgov_copy_").replace("_", r"\_") + "%"],
        ).fetchall()
    tag = installation_tag()
    return [r[0] for r in rows if tag in r[0]]


@pytest.fixture(scope="session")
def staging_test_db(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """test_<staging NAME>, migrated to shop 0002 and seeded with 100K orders."""
    db = settings.DATABASES["staging"]
    base = db["NAME"]
    # If other tests had pytest-django build the staging test database, keep out of its way.
    name = f"{base}_rehearsal" if base.startswith("test_") else f"test_{base}"
    with _admin_conn(db) as conn:
        conn.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
        )
        conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    # Seeded as the demo seeds it: without the gate, whose approvals live in the real
    # 'default' database (CI's environment turns the gate on; a fresh machine has no
    # such database, and this staging copy is test set-up, not a deploy).
    env = {**os.environ, "STAGING_DATABASE_URL": _url(db, name), "DBGOV_ENFORCE_ON_MIGRATE": "0"}
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_orders",
            "--database",
            "staging",
            "--migrate-to",
            "0002",
            "--orders",
            str(SEED_ORDERS),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    yield name
    with _admin_conn(db) as conn:
        conn.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
        )


@pytest.fixture(scope="session", autouse=True)
def no_orphaned_copies(django_db_setup: Any) -> Iterator[None]:
    """After the whole suite, no dbgov_copy_* database of this installation remains."""
    yield
    left = copies_on_server()
    assert not left, f"orphaned staging copies left behind: {left}"


class Worker:
    """A real Celery worker subprocess consuming one queue."""

    def __init__(self, queue: str, env: dict[str, str], log: Path) -> None:
        self.queue = queue
        self.log = log
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "project",
                "worker",
                "-Q",
                queue,
                "-c",
                "1",
                "--pool=prefork",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"{queue}@%h",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill it whole
        )

    def wait_ready(self, timeout: float = 60) -> Worker:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"celery worker did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (no warm shutdown, no cleanup)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()


def _purge(queue: str) -> None:
    from project.celery import app

    with app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge(queue)


@pytest.fixture(scope="session")
def worker_env(staging_test_db: str) -> dict[str, str]:
    from django.db import connections

    default = connections["default"].settings_dict  # the test database by now
    return {
        **os.environ,
        "DATABASE_URL": _url(default, default["NAME"]),
        "STAGING_DATABASE_URL": _url(settings.DATABASES["staging"], staging_test_db),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "worker_settings",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
    }


@pytest.fixture(scope="session")
def start_worker(
    worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Worker]]:
    """Start workers on a queue (with optional environment overrides); all stopped at exit."""
    started: list[Worker] = []

    def start(queue: str, **env: str) -> Worker:
        if not started or all(w.queue != queue for w in started):
            _purge(queue)
        log = tmp_path_factory.mktemp("worker") / f"{queue}.log"
        worker = Worker(queue, {**worker_env, **env}, log)
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def rehearsal_worker(start_worker: Callable[..., Worker]) -> Worker:
    """The shared worker on this session's rehearsal queue."""
    return start_worker(QUEUE)


def _on_queue(queue: str) -> Any:
    return override_settings(DBGOV={**settings.DBGOV, "REHEARSAL_QUEUE": queue})


@pytest.fixture(autouse=True)
def session_queue() -> Iterator[None]:
    """Rehearsals of this session go to its own queue."""
    with _on_queue(QUEUE):
        yield


@pytest.fixture
def on_queue() -> Callable[[str], Any]:
    """override_settings sending rehearsals to another queue (for a dedicated worker),
    named after this session's queue: ``on_queue("unreachable")``."""
    return lambda suffix: _on_queue(f"{QUEUE}.{suffix}")


def wait_run(run_id: int, timeout: float = 120) -> Any:
    from dbgov.models import ExplainRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ExplainRun.objects.get(pk=run_id)
        if run.is_terminal:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s: {run.status} {run.step}")
