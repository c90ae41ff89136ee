"""Storing plans, approvals bound to content, four eyes, required approvals, gates."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from dbgov.analysis import model as am
from dbgov.governance import services
from dbgov.models import Approval, ApprovalRequest, AuditEvent, Finding, Plan, Task

from .conftest import SHOP, build_plan, finding, migration

pytestmark = pytest.mark.django_db


def request_for(rule: str) -> ApprovalRequest:
    return ApprovalRequest.objects.exclude(status="stale").get(rule_id=rule)


def test_save_plan_stores_findings_and_opens_requests(t021_plan: am.Plan, tasks: Any) -> None:
    stored = services.save_plan(t021_plan, code_revision="abc123")
    assert stored.migration_count == 2
    assert Finding.objects.filter(plan=stored).count() == 3
    # the warning needs no review: two requests, not three
    assert set(ApprovalRequest.objects.values_list("rule_id", flat=True)) == {
        "fk-cascade",
        "rename-column",
    }
    assert request_for("fk-cascade").task == tasks["T-021"]
    assert Task.objects.get(key="T-021").status == Task.Status.IN_REVIEW
    assert AuditEvent.objects.filter(action="plan.saved").count() == 1


def test_save_plan_is_idempotent_per_content(t021_plan: am.Plan) -> None:
    first = services.save_plan(t021_plan)
    again = services.save_plan(t021_plan)
    assert first.pk == again.pk
    assert Plan.objects.count() == 1
    assert ApprovalRequest.objects.count() == 2


def test_unknown_task_keys_are_created_as_drafts(t021_plan: am.Plan) -> None:
    services.save_plan(t021_plan)
    task = Task.objects.get(key="T-036")
    assert "shop.0005_rename_order_total" in task.title


def test_fingerprint_binds_file_content_operation_and_rule() -> None:
    base = dict(
        sha256="a" * 64,
        app_label="shop",
        migration="0002_orders",
        operation_index=1,
        rule_id="fk-cascade",
    )
    fp = services.finding_fingerprint(**base)
    assert fp == services.finding_fingerprint(**base)
    for change in ({"sha256": "b" * 64}, {"operation_index": 0}, {"rule_id": "other"}):
        assert services.finding_fingerprint(**{**base, **change}) != fp


def test_approval_needs_permission_reason_and_four_eyes(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan)
    r = request_for("fk-cascade")
    with pytest.raises(PermissionDenied):
        services.approve(r, user=users["dev"], reason="looks fine")
    with pytest.raises(services.GovernanceError, match="reason"):
        services.approve(r, user=users["dba"], reason="   ")
    # dbaowner owns T-036: a DBA, but not for their own task
    with pytest.raises(services.GovernanceError, match="Four eyes"):
        services.approve(request_for("rename-column"), user=users["dbaowner"], reason="mine")
    services.approve(r, user=users["dba"], reason="cascade is intended")
    assert request_for("fk-cascade").status == "approved"
    assert Task.objects.get(key="T-021").status == Task.Status.APPROVED


def test_plan_author_cannot_approve_findings_of_their_plan(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan, author=users["dba2"])
    with pytest.raises(services.GovernanceError, match="Four eyes"):
        services.approve(request_for("fk-cascade"), user=users["dba2"], reason="mine")


@override_settings(DBGOV={"REQUIRED_APPROVALS": {"never-without-a-plan": 2, "requires-care": 1}})
def test_required_approvals_per_severity(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan)
    r = request_for("rename-column")
    services.approve(r, user=users["dba"], reason="expand/contract plan in T-036")
    state = services.review_state([r])[r.fingerprint]
    assert (len(state.approvals), state.needed, state.decided) == (1, 2, None)
    with pytest.raises(services.GovernanceError, match="already"):
        services.approve(r, user=users["dba"], reason="again")
    services.approve(r, user=users["dba2"], reason="agreed")
    state = services.review_state([r])[r.fingerprint]
    assert state.decided == "approved"


@override_settings(DBGOV={"REQUIRED_APPROVALS": {"never-without-a-plan": 3}})
def test_required_approvals_are_read_from_settings() -> None:
    assert services.required_approvals("never-without-a-plan") == 3
    assert services.required_approvals("requires-care") == 1  # unlisted: one reviewer
    assert services.required_approvals("warning") == 0


def test_gate_blocks_until_approved_and_rejection_blocks(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan)
    result = services.gate(t021_plan)
    assert not result.ok and result.exit_code == 1
    assert {b.finding.rule_id for b in result.blocked} == {"fk-cascade", "rename-column"}
    services.approve(request_for("fk-cascade"), user=users["dba"], reason="intended")
    services.reject(request_for("rename-column"), user=users["dba"], reason="add/backfill/drop")
    result = services.gate(t021_plan)
    assert [b.finding.rule_id for b in result.blocked] == ["rename-column"]
    assert result.blocked[0].state.decided == "rejected"
    # only the migrations migrate is about to apply
    assert services.gate(t021_plan, only=["shop.0002_orders"]).ok


def test_applied_migrations_are_not_gated(t021_plan: am.Plan) -> None:
    for m in t021_plan.migrations:
        m.applied = True
    assert services.gate(t021_plan).ok


def test_editing_a_migration_makes_its_approvals_stale(
    tmp_path: Path, users: dict[str, Any], tasks: Any, shop_pending: None
) -> None:
    path = tmp_path / "0002_orders.py"
    shutil.copy(SHOP / "0002_orders.py", path)
    m = migration("0002_orders", "T-021", ops=2, path=path)
    plan = build_plan(m, findings=[finding(m, 1, "fk-cascade")])
    services.save_plan(plan)
    services.approve(request_for("fk-cascade"), user=users["dba"], reason="intended")
    assert services.gate(plan).ok

    original = path.read_bytes()
    path.write_bytes(original + b"\n# edited after approval\n")
    m2 = migration("0002_orders", "T-021", ops=2, path=path)
    plan2 = build_plan(m2, findings=[finding(m2, 1, "fk-cascade")])
    services.save_plan(plan2)
    result = services.gate(plan2)
    assert not result.ok
    state = result.blocked[0].state
    assert state.approvals == [] and [a.reviewer for a in state.stale] == ["dba"]
    assert ApprovalRequest.objects.get(status="stale").rule_id == "fk-cascade"
    assert Task.objects.get(key="T-021").status == Task.Status.IN_REVIEW

    # editing it back revives the approval of that exact content
    path.write_bytes(original)
    services.save_plan(plan)
    assert services.gate(plan).ok


def test_revocation_reopens_the_request(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan)
    approval = services.approve(request_for("fk-cascade"), user=users["dba"], reason="ok")
    services.revoke(approval, user=users["dba2"], reason="missed the GDPR job")
    assert request_for("fk-cascade").status == "open"
    assert not services.gate(t021_plan, only=["shop.0002_orders"]).ok
    assert Approval.objects.filter(decision="revoked", revokes=approval).exists()


def test_review_state_accepts_analysis_findings(t021_plan: am.Plan, users: Any, tasks: Any) -> None:
    services.save_plan(t021_plan)
    services.approve(request_for("fk-cascade"), user=users["dba"], reason="ok")
    states = services.review_state(t021_plan.findings, plan=t021_plan)
    by_decision = sorted((s.decided or "pending") for s in states.values())
    assert by_decision == ["approved", "not-required", "pending"]


def test_only_pending_selected_migrations_open_requests(t021_plan: am.Plan) -> None:
    t021_plan.migrations[1].applied = True  # the rename was applied already (plan --all)
    services.save_plan(t021_plan)
    assert list(ApprovalRequest.objects.values_list("rule_id", flat=True)) == ["fk-cascade"]


def test_a_dependency_rendered_along_keeps_its_requests(t021_plan: am.Plan) -> None:
    services.save_plan(t021_plan)
    # plan --task T-036: 0002 is rendered as a dependency, without findings
    t021_plan.migrations[0].selected = False
    t021_plan.findings = [f for f in t021_plan.findings if f.migration == "0005_rename_order_total"]
    t021_plan.task = "T-036"
    services.save_plan(t021_plan)
    assert request_for("fk-cascade").status == "open"


def test_integrity_findings_of_applied_migrations_open_requests(t021_plan: am.Plan) -> None:
    for m in t021_plan.migrations:
        m.applied = True
    changed = finding(t021_plan.migrations[0], 0, services.RULE_APPLIED_CHANGED, am.Severity.ERROR)
    changed.operation_index = None
    t021_plan.findings.append(changed)
    services.save_plan(t021_plan)
    assert list(ApprovalRequest.objects.values_list("rule_id", flat=True)) == [
        services.RULE_APPLIED_CHANGED
    ]
    assert not services.gate(t021_plan).ok
