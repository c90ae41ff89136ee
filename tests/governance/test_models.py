"""The database itself refuses tampering: raw SQL, no Python in the way."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import override_settings

from dbgov.governance import services
from dbgov.models import Approval, ApprovalRequest, AuditEvent, Finding, Ledger, Plan, Task

pytestmark = pytest.mark.django_db


def raw(sql: str, params: list[Any] | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@pytest.fixture
def decided(t021_plan: Any, users: dict[str, Any], tasks: dict[str, Any]) -> Approval:
    services.save_plan(t021_plan)
    request = ApprovalRequest.objects.get(rule_id="fk-cascade")
    return services.approve(request, user=users["dba"], reason="orders are deleted by GDPR jobs")


def test_shipped_migrations_are_complete() -> None:
    # makemigrations --check, for the default alias only (the staging alias of the
    # demo project holds the shop tables alone and has no auth tables to check)
    with override_settings(DATABASE_ROUTERS=["tests.governance.test_models.DefaultOnly"]):
        out = StringIO()
        call_command("makemigrations", "dbgov", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


class DefaultOnly:
    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"


def test_approval_is_append_only(decided: Approval) -> None:
    with pytest.raises(DatabaseError, match="(?i)cannot update rows"):
        raw("UPDATE dbgov_approval SET reason = 'forged' WHERE id = %s", [decided.pk])
    with pytest.raises(DatabaseError, match="(?i)cannot delete rows"):
        raw("DELETE FROM dbgov_approval WHERE id = %s", [decided.pk])
    decided.refresh_from_db()
    assert decided.reason == "orders are deleted by GDPR jobs"


def test_audit_log_is_append_only(decided: Approval) -> None:
    event = AuditEvent.objects.get(action="finding.approved")
    with pytest.raises(DatabaseError, match="(?i)cannot update rows"):
        raw("UPDATE dbgov_auditevent SET actor_name = 'nobody'")
    with pytest.raises(DatabaseError, match="(?i)cannot delete rows"):
        raw("DELETE FROM dbgov_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, actor_name="dba").exists()


def test_ledger_is_append_only() -> None:
    entry = Ledger.objects.create(
        database="default", app_label="shop", name="0002_orders", action="applied", sha256="a" * 64
    )
    with pytest.raises(DatabaseError, match="(?i)cannot update rows"):
        raw("UPDATE dbgov_ledger SET sha256 = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="(?i)cannot delete rows"):
        raw("DELETE FROM dbgov_ledger WHERE id = %s", [entry.pk])


def test_stored_finding_and_plan_are_frozen(t021_plan: Any) -> None:
    plan = services.save_plan(t021_plan)
    f = Finding.objects.filter(plan=plan).first()
    assert f is not None
    with pytest.raises(DatabaseError, match="(?i)cannot update rows"):
        raw("UPDATE dbgov_finding SET severity = 'info' WHERE id = %s", [f.pk])
    with pytest.raises(DatabaseError, match="(?i)cannot update rows"):
        raw("UPDATE dbgov_plan SET finding_count = 0 WHERE id = %s", [plan.pk])


def test_request_status_moves_only_along_legal_transitions(
    t021_plan: Any, users: dict[str, Any], tasks: dict[str, Any]
) -> None:
    services.save_plan(t021_plan)
    request = ApprovalRequest.objects.get(rule_id="fk-cascade")
    services.reject(request, user=users["dba"], reason="archive the rows first")
    with pytest.raises(DatabaseError, match='Invalid transition of field "status"'):
        raw("UPDATE dbgov_approvalrequest SET status = 'approved' WHERE id = %s", [request.pk])
    with pytest.raises(DatabaseError, match='Invalid transition of field "status"'):
        raw("UPDATE dbgov_approvalrequest SET status = 'open' WHERE id = %s", [request.pk])
    # its content is frozen, and it is never deleted
    with pytest.raises(DatabaseError, match="(?i)cannot update rows"):
        raw("UPDATE dbgov_approvalrequest SET severity = 'info' WHERE id = %s", [request.pk])
    with pytest.raises(DatabaseError, match="(?i)cannot delete rows"):
        raw("DELETE FROM dbgov_approvalrequest WHERE id = %s", [request.pk])
    # a legal transition goes through
    raw("UPDATE dbgov_approvalrequest SET status = 'stale' WHERE id = %s", [request.pk])


def test_four_eyes_is_enforced_by_postgresql(
    t021_plan: Any, users: dict[str, Any], tasks: dict[str, Any]
) -> None:
    services.save_plan(t021_plan)
    request = ApprovalRequest.objects.get(rule_id="fk-cascade")  # T-021, owned by dev
    with pytest.raises(IntegrityError, match="four eyes"):
        raw(
            "INSERT INTO dbgov_approval (request_id, fingerprint, decision, reviewer_id, reason,"
            " created_at) VALUES (%s, %s, 'approved', %s, 'mine', now())",
            [request.pk, request.fingerprint, users["dev"].pk],
        )


def test_reason_is_required_by_postgresql(
    t021_plan: Any, users: dict[str, Any], tasks: dict[str, Any]
) -> None:
    services.save_plan(t021_plan)
    request = ApprovalRequest.objects.get(rule_id="fk-cascade")
    with pytest.raises(IntegrityError, match="dbgov_approval_reason"):
        raw(
            "INSERT INTO dbgov_approval (request_id, fingerprint, decision, reviewer_id, reason,"
            " created_at) VALUES (%s, %s, 'approved', %s, '  ', now())",
            [request.pk, request.fingerprint, users["dba"].pk],
        )


def test_task_keys_are_validated_in_the_database(db: Any) -> None:
    with pytest.raises(IntegrityError, match="dbgov_task_key_format"):
        raw(
            "INSERT INTO dbgov_task (key, title, acceptance_criteria, status, created_at,"
            " updated_at) VALUES ('TASK-1', 'x', '', 'draft', now(), now())"
        )
    Task.objects.create(key="T-100", title="ok")
    with pytest.raises(IntegrityError):
        Task.objects.create(key="T-100", title="duplicate")


def test_plan_delete_is_allowed_for_pruning_but_decisions_stay(decided: Approval) -> None:
    Plan.objects.all().delete()
    assert Approval.objects.filter(pk=decided.pk).exists()
    assert ApprovalRequest.objects.filter(pk=decided.request_id).exists()
