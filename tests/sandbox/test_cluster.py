"""The embedded sandbox: private, unprivileged where migrations run, reused while alive."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from dbgov.sandbox.cluster import ADMIN_ROLE, RENDER_ROLE, ClusterError, EmbeddedCluster


def test_the_render_role_has_no_privilege_a_migration_could_abuse(cluster, tmp_path):
    with cluster.connect() as admin:
        admin.execute("DROP DATABASE IF EXISTS render_probe")
        admin.execute(f"CREATE DATABASE render_probe OWNER {RENDER_ROLE}")
    try:
        with cluster.connect("render_probe", role=RENDER_ROLE) as conn:
            row = conn.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            ).fetchone()
            assert row == (False, False, False, False)
            refused = [
                "CREATE ROLE intruder LOGIN SUPERUSER",
                "ALTER SYSTEM SET log_statement = 'all'",
                f"COPY (SELECT 1) TO PROGRAM 'touch {tmp_path / 'pwned'}'",
                "COPY (SELECT 1) TO '/tmp/dbgov-sandbox-write-probe'",
                f"ALTER ROLE {RENDER_ROLE} SUPERUSER",
                f"SET ROLE {ADMIN_ROLE}",
                "CREATE EXTENSION dblink",
                "DROP DATABASE postgres",
            ]
            for statement in refused:
                with pytest.raises(psycopg.Error):
                    conn.execute(statement)
            # What migrations legitimately do still works.
            conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, v text)")
            conn.execute("CREATE INDEX t_v ON t (v)")
            conn.execute("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        assert not (tmp_path / "pwned").exists()
    finally:
        with cluster.connect() as admin:
            admin.execute("DROP DATABASE IF EXISTS render_probe WITH (FORCE)")


def test_it_listens_on_no_tcp_port(cluster):
    with cluster.connect() as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        hba = conn.execute("SELECT DISTINCT type FROM pg_hba_file_rules").fetchall()
    assert hba == [("local",)]


def test_a_private_folder_the_server_user_cannot_reach_is_a_clear_error(cluster, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another system user")
    hidden = tmp_path / "hidden"  # pytest's tmp_path is private to root (0700)
    with pytest.raises(ClusterError, match="not reachable by the system user"):
        EmbeddedCluster(cluster.binaries, hidden).ensure_running()


def test_it_is_reused_while_alive_and_stops_and_goes_away_when_asked(cluster):
    pid = cluster.status().pid
    cluster.ensure_running()
    assert cluster.status().pid == pid  # the same server, not a new one

    folder = Path(tempfile.mkdtemp(prefix="dbgov-test-own-"))
    folder.chmod(0o755)
    other = EmbeddedCluster(cluster.binaries, folder / "own")
    other.ensure_running()
    try:
        assert other.status().running
        assert other.status().pid != pid
        with other.connect() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert [c.root for c in EmbeddedCluster.existing(folder / "own")] == [other.root]
    finally:
        assert other.stop() is True
    assert not other.status().running
    other.ensure_running()  # starts again from its folder
    assert other.stop(remove=True) is True
    assert not other.root.exists()
    assert cluster.status().running  # the other cluster was never touched
    shutil.rmtree(folder, ignore_errors=True)
