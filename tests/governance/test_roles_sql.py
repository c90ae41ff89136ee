"""``dbgov roles --sql``: the generated GRANTs, applied on real PostgreSQL, refuse what
each role must not do (and let the reviewers' admin do its work)."""

from __future__ import annotations

import secrets
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from dbgov.governance import integrity, services
from dbgov.models import ApprovalRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def roles() -> dict[str, str]:
    """Three fresh role names; the SQL runs inside the test's transaction (rolled back,
    CREATE ROLE included)."""
    suffix = secrets.token_hex(3)
    names = {k: f"g2_{k}_{suffix}" for k in ("app", "migrator", "reviewer")}
    out = StringIO()
    call_command(
        "dbgov",
        "roles",
        "--sql",
        "--app-role",
        names["app"],
        "--migrator-role",
        names["migrator"],
        "--reviewer-role",
        names["reviewer"],
        stdout=out,
    )
    sql = out.getvalue()
    body = "\n".join(line for line in sql.splitlines() if line not in ("BEGIN;", "COMMIT;"))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(body)
    return names


def refused(role: str, sql: str) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as c:
        c.execute(f'SET LOCAL ROLE "{role}"')
        c.execute(sql)
    return str(info.value)


def test_application_role_cannot_touch_dbgov(roles: dict[str, str]) -> None:
    app = roles["app"]
    assert "permission denied" in refused(app, "SELECT 1 FROM dbgov_approval")
    assert "permission denied" in refused(
        app,
        "INSERT INTO dbgov_approval (request_id, fingerprint, decision, reviewer_id, reason,"
        " created_at) VALUES (1, 'x', 'approved', 1, 'r', now())",
    )
    assert "permission denied" in refused(app, "TRUNCATE dbgov_ledger")
    assert "must be owner" in refused(app, "ALTER TABLE dbgov_ledger DISABLE TRIGGER ALL")
    assert "permission denied" in refused(app, "DELETE FROM dbgov_auditevent")
    # it still works on the project's tables
    with transaction.atomic(), connection.cursor() as c:
        c.execute(f'SET LOCAL ROLE "{app}"')
        c.execute("SELECT count(*) FROM shop_orders")


def test_reviewer_role_appends_but_cannot_rewrite(
    roles: dict[str, str], t021_plan: Any, users: dict[str, Any], tasks: Any
) -> None:
    rev = roles["reviewer"]
    services.save_plan(t021_plan)
    with transaction.atomic(), connection.cursor() as c:
        c.execute(f'SET LOCAL ROLE "{rev}"')
        # a real decision, through the services, as the admin's database role
        services.approve(
            ApprovalRequest.objects.get(rule_id="fk-cascade"), user=users["dba"], reason="ok"
        )
    assert integrity.verify() == []
    assert "permission denied" in refused(rev, "UPDATE dbgov_approval SET reason = 'x'")
    assert "permission denied" in refused(rev, "DELETE FROM dbgov_approval")
    assert "permission denied" in refused(rev, "TRUNCATE dbgov_auditevent")
    assert "must be owner" in refused(rev, "ALTER TABLE dbgov_approval DISABLE TRIGGER ALL")
    assert "permission denied" in refused(rev, "UPDATE dbgov_approvalrequest SET severity = 'info'")
    # the chain head only moves forward, whoever holds UPDATE on it
    assert "only moves forward" in refused(rev, "UPDATE dbgov_chainhead SET seq = 0")
