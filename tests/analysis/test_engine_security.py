"""A gate never executes what it gates: pending migrations run only in the sandbox.

A pending migration creates a superuser, runs a shell command through COPY … TO
PROGRAM, and drops another database and the target itself. `plan` and `check` must show
every one of those statements, flag them for review, and leave the target's server
exactly as it was: its roles, its databases and the target's tables.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connections

from dbgov.analysis.engine import build_plan

pytestmark = pytest.mark.django_db(transaction=True)


def _server(alias: str) -> psycopg.Connection:
    s = connections[alias].settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or "postgres",
        password=s["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _server_state(alias: str, victim: str) -> dict[str, object]:
    """What the attack aims at. The server is shared with other work, so only the
    target, the victim, superusers and databases named like the sandbox's count."""
    target = connections[alias].settings_dict["NAME"]
    with _server(alias) as conn:
        superusers = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolsuper")}
        databases = {
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname IN (%s, %s) "
                "OR datname LIKE 'dbgov\\_sbx\\_%%'",
                [target, victim],
            )
        }
    tables = set(connections[alias].introspection.table_names())
    return {"superusers": superusers, "databases": databases, "tables": tables}


@pytest.fixture
def attack(scratch_db, shop_migrations, monkeypatch, tmp_path):
    token = secrets.token_hex(4)
    victim = f"dbgov_test_victim_{token}"
    role = f"dbgov_test_attack_{token}"
    marker = tmp_path / "pwned"
    with _server(scratch_db) as conn:
        conn.execute(f'CREATE DATABASE "{victim}"')
    monkeypatch.setenv("DBGOV_ATTACK_ROLE", role)
    monkeypatch.setenv("DBGOV_ATTACK_VICTIM", victim)
    monkeypatch.setenv("DBGOV_ATTACK_TARGET", connections[scratch_db].settings_dict["NAME"])
    monkeypatch.setenv("DBGOV_ATTACK_MARKER", str(marker))
    shop_migrations("attack")
    yield {"alias": scratch_db, "victim": victim, "role": role, "marker": marker}
    with _server(scratch_db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{victim}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_plan_shows_the_attack_and_runs_none_of_it(attack):
    alias = attack["alias"]
    before = _server_state(alias, attack["victim"])
    plan = build_plan(database=alias)
    after = _server_state(alias, attack["victim"])
    assert after == before
    assert attack["role"] not in after["superusers"]
    assert attack["victim"] in after["databases"]
    assert not Path(attack["marker"]).exists()

    (migration,) = plan.selected
    sql = [s.sql for _, s in migration.statements_in_order()]
    assert sql[0].startswith(f"CREATE ROLE {attack['role']} LOGIN SUPERUSER")
    assert "TO PROGRAM" in sql[1]
    assert f'DROP DATABASE "{attack["victim"]}"' in sql[2]
    assert "WITH (FORCE)" in sql[3]
    # The sandbox refused each privileged statement, and said so; nothing after them
    # is hidden.
    create_role, copy, drop_victim, drop_target, after_attack = migration.operations
    for op in (create_role, copy, drop_victim, drop_target):
        assert op.statements[0].failed, op.description
        assert op.error
    assert "must be superuser" in create_role.statements[0].failed
    assert after_attack.error is None and after_attack.statements[0].failed is None
    review = {(f.operation_index, f.rule_id) for f in plan.findings if f.needs_review}
    for index in range(4):
        assert any(i == index for i, _ in review), f"operation {index} is not flagged"


def test_check_and_plan_commands_leave_the_server_as_it_was(attack):
    alias = attack["alias"]
    before = _server_state(alias, attack["victim"])
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("dbgov", "plan", "--database", alias, "--format", "json", stdout=out)
    assert exit_info.value.code == 1
    doc = json.loads(out.getvalue())
    statements = [
        s["sql"] for m in doc["migrations"] for o in m["operations"] for s in o["statements"]
    ]
    assert any("SUPERUSER" in s for s in statements)
    assert all(
        s["failed"] for m in doc["migrations"] for o in m["operations"][:4] for s in o["statements"]
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("dbgov", "check", "--database", alias, stdout=io.StringIO())
    assert exit_info.value.code == 1
    assert _server_state(alias, attack["victim"]) == before
    assert not Path(attack["marker"]).exists()


def test_nothing_is_left_in_the_sandbox_after_the_attack(attack, private_sandbox):
    from dbgov.sandbox.cluster import EmbeddedCluster
    from dbgov.sandbox.disposable import list_disposables
    from dbgov.sandbox.server import ServerAccess
    from dbgov.sandbox.templates import prefix

    build_plan(database=attack["alias"])
    (cluster,) = [
        c
        for c in EmbeddedCluster.existing(private_sandbox)
        if c.is_running() and c.binaries.major == 15
    ]
    access = ServerAccess({k: v for k, v in cluster.conninfo().items() if k != "dbname"}, label="t")
    assert [d for d in list_disposables(access, prefix()) if d.pid == os.getpid()] == []
    with cluster.connect() as conn:
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
    assert attack["role"] not in roles
