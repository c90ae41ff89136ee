"""Admin pages: constant query counts, permissions, CSRF, reasons, four eyes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dbgov.analysis import model as am
from dbgov.governance import services
from dbgov.models import Approval, ApprovalRequest, Plan

from .conftest import build_plan, finding, migration

pytestmark = pytest.mark.django_db


def big_plan(n: int) -> am.Plan:
    """n findings needing review over operations of two real migration files."""
    half = max(1, n // 2)
    m1 = migration("0002_orders", "T-021", ops=half)
    m2 = migration("0010_orders_total_check", "T-040", ops=n - half)
    return build_plan(
        m1,
        m2,
        findings=[finding(m1, i) for i in range(half)] + [finding(m2, i) for i in range(n - half)],
    )


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def pages(plan: Plan) -> dict[str, str]:
    task = ApprovalRequest.objects.filter(task__isnull=False).first().task  # type: ignore[union-attr]
    request = ApprovalRequest.objects.first()
    return {
        "review": reverse("admin:dbgov_plan_review", args=[plan.pk]),
        "queue": reverse("admin:dbgov_approvalrequest_changelist"),
        "request": reverse("admin:dbgov_approvalrequest_change", args=[request.pk]),  # type: ignore[union-attr]
        "tasks": reverse("admin:dbgov_task_changelist"),
        "task": reverse("admin:dbgov_task_change", args=[task.pk]),
        "plans": reverse("admin:dbgov_plan_changelist"),
        "audit": reverse("admin:dbgov_auditevent_changelist"),
        "decisions": reverse("admin:dbgov_approval_changelist"),
        "ledger": reverse("admin:dbgov_ledger_changelist"),
    }


def test_query_counts_do_not_grow_with_findings(
    users: dict[str, Any], shop_pending: None, capsys: Any
) -> None:
    client = client_for(users["dba"])
    counts: dict[int, dict[str, int]] = {}
    for n in (10, 200):
        ApprovalRequest.objects.all()  # fresh data per size below
        plan = services.save_plan(big_plan(n))
        # a couple of decisions so the pages show approvals and history
        for r in ApprovalRequest.objects.filter(plan=plan)[:3]:
            services.approve(r, user=users["dba2"], reason="checked")
        counts[n] = {name: count_queries(client, url) for name, url in pages(plan).items()}
    with capsys.disabled():
        print("\nqueries per admin page (10 findings -> 200 findings):", counts)
    assert counts[10] == counts[200]


def test_review_page_shows_sql_badges_and_alternatives(
    users: dict[str, Any], t021_plan: am.Plan, tasks: Any
) -> None:
    plan = services.save_plan(t021_plan)
    html = client_for(users["dev"]).get(reverse("admin:dbgov_plan_review", args=[plan.pk]))
    assert html.status_code == 200
    body = html.content.decode()
    assert 'class="dbgov-sql"' in body  # Pygments markup
    assert "ACCESS EXCLUSIVE" in body and ">scan<" in body
    assert "project/shop/migrations/0002_orders.py:11" in body
    assert "Add a CHECK NOT VALID" in body


def test_pages_are_staff_only(users: dict[str, Any], t021_plan: am.Plan) -> None:
    plan = services.save_plan(t021_plan)
    from django.contrib.auth.models import User

    outsider = User.objects.create_user("outsider", password="pw")  # not staff
    for url in pages(plan).values():
        assert client_for(outsider).get(url).status_code == 302  # to the login page
        assert Client().get(url).status_code == 302


def test_developer_sees_no_controls_and_forged_post_is_refused(
    users: dict[str, Any], t021_plan: am.Plan, tasks: Any
) -> None:
    services.save_plan(t021_plan)
    r = ApprovalRequest.objects.get(rule_id="fk-cascade")
    dev = client_for(users["dev"])
    page = dev.get(reverse("admin:dbgov_approvalrequest_change", args=[r.pk])).content.decode()
    assert "dbgov-decide" not in page and "approve_finding" in page
    queue = dev.get(reverse("admin:dbgov_approvalrequest_changelist")).content.decode()
    assert "approve_selected" not in queue
    forged = dev.post(
        reverse("admin:dbgov_approvalrequest_decide", args=[r.pk]),
        {"decision": "approved", "reason": "forged"},
    )
    assert forged.status_code == 403
    bulk = dev.post(
        reverse("admin:dbgov_approvalrequest_changelist"),
        {"action": "approve_selected", "_selected_action": [r.pk], "reason": "forged"},
    )
    assert bulk.status_code in (200, 302)
    assert not Approval.objects.exists()


def test_csrf_is_required(users: dict[str, Any], t021_plan: am.Plan, tasks: Any) -> None:
    services.save_plan(t021_plan)
    r = ApprovalRequest.objects.get(rule_id="fk-cascade")
    c = Client(enforce_csrf_checks=True)
    c.force_login(users["dba"])
    response = c.post(
        reverse("admin:dbgov_approvalrequest_decide", args=[r.pk]),
        {"decision": "approved", "reason": "ok"},
    )
    assert response.status_code == 403
    assert not Approval.objects.exists()


def test_decision_needs_a_reason_and_four_eyes(
    users: dict[str, Any], t021_plan: am.Plan, tasks: Any
) -> None:
    services.save_plan(t021_plan)
    r = ApprovalRequest.objects.get(rule_id="fk-cascade")
    url = reverse("admin:dbgov_approvalrequest_decide", args=[r.pk])
    client_for(users["dba"]).post(url, {"decision": "approved", "reason": "  "})
    assert not Approval.objects.exists()
    own = ApprovalRequest.objects.get(rule_id="rename-column")  # T-036 owned by dbaowner
    owner = client_for(users["dbaowner"])
    page = owner.get(reverse("admin:dbgov_approvalrequest_change", args=[own.pk])).content.decode()
    assert "Four eyes" in page and "dbgov-decide" not in page
    owner.post(
        reverse("admin:dbgov_approvalrequest_decide", args=[own.pk]),
        {"decision": "approved", "reason": "mine"},
    )
    assert not Approval.objects.exists()
    client_for(users["dba"]).post(url, {"decision": "approved", "reason": "cascade intended"})
    assert Approval.objects.get().reason == "cascade intended"


def test_bulk_actions_need_a_reason(users: dict[str, Any], t021_plan: am.Plan, tasks: Any) -> None:
    services.save_plan(t021_plan)
    ids = list(ApprovalRequest.objects.values_list("pk", flat=True))
    dba2 = client_for(users["dba2"])
    queue = reverse("admin:dbgov_approvalrequest_changelist")
    dba2.post(queue, {"action": "approve_selected", "_selected_action": ids, "reason": ""})
    assert not Approval.objects.exists()
    dba2.post(queue, {"action": "approve_selected", "_selected_action": ids, "reason": "batch ok"})
    assert Approval.objects.filter(reason="batch ok").count() == 2


def test_audit_log_is_read_only(users: dict[str, Any], t021_plan: am.Plan) -> None:
    from django.contrib.auth.models import User

    services.save_plan(t021_plan)
    admin_user = User.objects.create_superuser("root", password="pw")
    c = client_for(admin_user)
    event = services.audit("test.event", subject="x")
    assert c.get(reverse("admin:dbgov_auditevent_add")).status_code == 403
    assert (
        c.post(
            reverse("admin:dbgov_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    page = c.get(reverse("admin:dbgov_auditevent_change", args=[event.pk])).content.decode()
    assert 'name="_save"' not in page


def test_queue_opens_on_open_requests(
    users: dict[str, Any], t021_plan: am.Plan, tasks: Any
) -> None:
    services.save_plan(t021_plan)
    services.approve(
        ApprovalRequest.objects.get(rule_id="fk-cascade"), user=users["dba"], reason="ok"
    )
    c = client_for(users["dba2"])
    queue = reverse("admin:dbgov_approvalrequest_changelist")
    page = c.get(queue).content.decode()
    assert "rename-column" in page and "fk-cascade" not in page
    assert "fk-cascade" in c.get(queue + "?status=all").content.decode()
    assert "fk-cascade" in c.get(queue + "?status=approved").content.decode()


def test_revoke_action_reopens_the_request(
    users: dict[str, Any], t021_plan: am.Plan, tasks: Any
) -> None:
    services.save_plan(t021_plan)
    approval = services.approve(
        ApprovalRequest.objects.get(rule_id="fk-cascade"), user=users["dba"], reason="ok"
    )
    url = reverse("admin:dbgov_approval_changelist")
    post = {"action": "revoke_selected", "_selected_action": [approval.pk]}
    client_for(users["dev"]).post(url, {**post, "reason": "forged"})
    client_for(users["dba2"]).post(url, {**post, "reason": ""})
    assert ApprovalRequest.objects.get(rule_id="fk-cascade").status == "approved"
    client_for(users["dba2"]).post(url, {**post, "reason": "the GDPR job was missed"})
    assert ApprovalRequest.objects.get(rule_id="fk-cascade").status == "open"
    assert Approval.objects.get(decision="revoked").revokes == approval


def test_task_created_in_the_admin_is_audited(users: dict[str, Any]) -> None:
    from django.contrib.auth.models import User

    from dbgov.models import AuditEvent, Task

    root = User.objects.create_superuser("root", password="pw")
    client_for(root).post(
        reverse("admin:dbgov_task_add"),
        {"key": "T-060", "title": "Partition orders", "acceptance_criteria": "", "owner": ""},
    )
    assert Task.objects.filter(key="T-060").exists()
    assert AuditEvent.objects.get(action="task.created").actor == root
    client_for(root).post(
        reverse("admin:dbgov_task_add"), {"key": "bad", "title": "x", "acceptance_criteria": ""}
    )
    assert not Task.objects.filter(key="bad").exists()
