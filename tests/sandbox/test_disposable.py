"""Disposable databases are reaped by ownership, never by name or age alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from dbgov.sandbox.disposable import (
    create_database,
    drop_database,
    list_disposables,
    reap,
)
from dbgov.sandbox.server import SandboxError

PREFIX = "dbgov_sbx_test_"

OWNER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from dbgov.sandbox.disposable import create_database
    from dbgov.sandbox.server import ServerAccess
    access = ServerAccess(json.loads(sys.argv[1]), label="owner")
    db = create_database(access, prefix=sys.argv[2], purpose="owned")
    print(db.name, flush=True)
    time.sleep(600)
    """
)


def _owner_process(admin) -> tuple[subprocess.Popen[str], str]:
    import json

    process = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, json.dumps(admin.params), PREFIX],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"},
    )
    assert process.stdout is not None
    name = process.stdout.readline().strip()
    assert name.startswith(PREFIX), name
    return process, name


def _names(admin) -> set[str]:
    with admin.connect() as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_a_killed_owners_database_is_reaped_and_a_live_ones_is_not(admin):
    live, live_name = _owner_process(admin)
    dead, dead_name = _owner_process(admin)
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait(10)
        time.sleep(0.3)  # the server notices the closed session
        state = {d.name: d.alive for d in list_disposables(admin, PREFIX)}
        assert state[live_name] is True and state[dead_name] is False
        assert reap(admin, PREFIX) == [dead_name]
        assert live_name in _names(admin) and dead_name not in _names(admin)
        assert reap(admin, PREFIX) == []
    finally:
        live.kill()
        live.wait(10)
    time.sleep(0.3)
    assert reap(admin, PREFIX) == [live_name]


def test_a_database_dbgov_did_not_make_is_never_reaped_or_dropped(admin):
    with admin.connect() as conn:
        conn.execute(f"CREATE DATABASE {PREFIX}foreign_1")  # named like ours, no owner mark
    try:
        assert f"{PREFIX}foreign_1" not in reap(admin, PREFIX)
        assert f"{PREFIX}foreign_1" in _names(admin)
        with pytest.raises(SandboxError, match="not a dbgov disposable database"):
            drop_database(admin, f"{PREFIX}foreign_1")
    finally:
        with admin.connect() as conn:
            conn.execute(f"DROP DATABASE {PREFIX}foreign_1")


def test_the_owner_drops_its_database_and_its_mark_says_who_made_it(admin):
    db = create_database(admin, prefix=PREFIX, purpose="mine")
    (info,) = [d for d in list_disposables(admin, PREFIX) if d.name == db.name]
    assert info.purpose == "mine" and info.pid == os.getpid() and info.alive
    assert info.age_s < 60
    # Our own reaper never takes a live database of ours.
    assert db.name not in reap(admin, PREFIX)
    db.drop()
    assert db.name not in _names(admin)
