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
from dbgov.models import Approval, ApprovalRequest, Plan, Task

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
    for key in ("T-021", "T-040"):  # decisions need tasks with an owner
        Task.objects.create(key=key, title=key, owner=users["dev"])
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


def test_revoke_by_the_task_owner_answers_with_a_message_not_a_500(
    users: dict[str, Any], t021_plan: am.Plan, tasks: Any
) -> None:
    # dbaowner holds approve_finding and owns T-036: revoking on it is deciding on it
    services.save_plan(t021_plan)
    request = ApprovalRequest.objects.get(rule_id="rename-column")  # T-036
    approval = services.approve(request, user=users["dba"], reason="ok")
    url = reverse("admin:dbgov_approval_changelist")
    post = {"action": "revoke_selected", "_selected_action": [approval.pk], "reason": "mine"}
    response = client_for(users["dbaowner"]).post(url, post, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("Four eyes" in m for m in shown), shown
    assert not Approval.objects.filter(decision="revoked").exists()
    assert ApprovalRequest.objects.get(pk=request.pk).status == "open"  # 1 of 2 approvals


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


def plan_document(nodes: int) -> list[dict[str, Any]]:
    """An EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) document with ``nodes`` scans under
    an Append (the shape of a query over a partitioned table)."""
    scans = [
        {
            "Node Type": "Seq Scan",
            "Parent Relationship": "Member",
            "Relation Name": f"shop_orders_p{i}",
            "Plan Rows": 100,
            "Actual Rows": 90,
            "Actual Loops": 1,
            "Actual Total Time": 0.5,
            "Shared Hit Blocks": 10,
            "Shared Read Blocks": 0,
            "Filter": "(status = 'new')",
            "Rows Removed by Filter": 10,
        }
        for i in range(nodes)
    ]
    root = {
        "Node Type": "Append",
        "Plan Rows": 100 * nodes,
        "Actual Rows": 90 * nodes,
        "Actual Loops": 1,
        "Actual Total Time": 0.6 * nodes,
        "Shared Hit Blocks": 10 * nodes,
        "Shared Read Blocks": 0,
        "Plans": scans,
    }
    return [{"Plan": root, "Planning Time": 0.2, "Execution Time": 0.7 * nodes}]


def rehearsal_run(task: Any, nodes: int) -> Any:
    from dbgov.models import ExplainRun, MigrationRehearsal, QueryPlan

    run = ExplainRun.objects.create(
        task=task, database_alias="staging", status="succeeded", step="done", duration_ms=10.0
    )
    for order in range(1, 4):
        MigrationRehearsal.objects.create(
            run=run,
            order=order,
            app_label="shop",
            name=f"00{order}_x",
            duration_ms=1.0,
            statements=[{"sql": "SELECT 1", "ms": 0.1, "at_ms": 0.0, "rows": None}],
            locks=[
                {
                    "relation": "public.shop_orders",
                    "mode": "ShareLock",
                    "granted": True,
                    "first_seen_ms": 0.0,
                    "last_seen_ms": 0.5,
                }
            ],
        )
    for name in ("q1", "q2"):
        for phase in ("before", "after"):
            doc = plan_document(nodes)
            QueryPlan.objects.create(
                run=run,
                pattern_name=name,
                sql="SELECT 1",
                phase=phase,
                plan=doc,
                execution_ms=1.0,
                shared_hit_blocks=10 * nodes,
                repetitions=[{"execution_ms": t, "blocks": 1, "plan": doc} for t in (1.0, 1.1)],
            )
    return run


def test_run_and_report_pages_query_counts_do_not_grow_with_plan_nodes(
    users: dict[str, Any], tasks: Any, capsys: Any
) -> None:
    client = client_for(users["dba"])
    counts = {}
    for nodes in (5, 300):
        run = rehearsal_run(tasks["T-021"], nodes)
        url = reverse("admin:dbgov_explainrun_change", args=[run.pk])
        counts[nodes] = {
            "run": count_queries(client, url),
            "runs": count_queries(client, reverse("admin:dbgov_explainrun_changelist")),
            "task report": count_queries(
                client, reverse("admin:dbgov_task_report", args=[tasks["T-021"].pk])
            ),
        }
    with capsys.disabled():
        print("\nqueries per run page (5 nodes -> 300 nodes per plan):", counts)
    assert counts[5] == counts[300]
    page = client.get(url).content.decode()
    assert page.count('class="dbgov-node"') >= 600  # every node of both plans drawn


def test_developer_role_sees_own_tasks_only(users: dict[str, Any], t021_plan: am.Plan) -> None:
    from django.contrib.auth.models import User

    from dbgov.governance.roles import ensure_developer_group
    from dbgov.models import Task

    dev = User.objects.create_user("devonly", password="pw", is_staff=True)
    dev.groups.add(ensure_developer_group())
    other = User.objects.create_user("someone", password="pw", is_staff=True)
    Task.objects.create(key="T-021", title="Create orders", owner=dev)
    Task.objects.create(key="T-036", title="Rename total", owner=other)
    plan = services.save_plan(t021_plan)
    c = client_for(dev)
    queue = c.get(reverse("admin:dbgov_approvalrequest_changelist") + "?status=all")
    assert queue.status_code == 200
    body = queue.content.decode()
    assert "fk-cascade" in body and "rename-column" not in body
    tasks_page = c.get(reverse("admin:dbgov_task_changelist")).content.decode()
    assert "T-021" in tasks_page and "T-036" not in tasks_page
    assert c.get(reverse("admin:dbgov_plan_review", args=[plan.pk])).status_code == 200
    theirs = ApprovalRequest.objects.get(rule_id="rename-column")
    denied = c.get(reverse("admin:dbgov_approvalrequest_change", args=[theirs.pk]))
    assert denied.status_code == 403 and b'id="user-tools"' in denied.content
    audit = c.get(reverse("admin:dbgov_auditevent_changelist"))
    assert audit.status_code == 403 and b"dbgov.view_auditevent" in audit.content
    assert not dev.has_perm("dbgov.approve_finding") and not dev.has_perm("dbgov.rehearse_task")
    report = c.get(reverse("admin:dbgov_task_report", args=[Task.objects.get(key="T-036").pk]))
    assert report.status_code == 403 and b"not your task" in report.content


def test_task_status_agrees_with_its_applied_migrations(users: dict[str, Any]) -> None:
    """Reseeded rows said "in review" / "draft" while the task page said "Applied: no"."""
    from dbgov.models import Task

    # As a reseed leaves them: statuses from the fixture, no stored plan at all.
    Task.objects.create(key="T-021", title="Create orders", status="in_review")
    Task.objects.create(key="T-099", title="Nothing written yet", status="applied")
    c = client_for(users["dba"])
    listing = c.get(reverse("admin:dbgov_task_changelist")).content.decode()
    assert listing.count("dbgov-status") >= 2
    # shop.0002_orders and 0003 name T-021 and are applied in the test database.
    assert Task.objects.get(key="T-021").status == Task.Status.APPLIED
    assert Task.objects.get(key="T-099").status == Task.Status.DRAFT
    task = Task.objects.get(key="T-021")
    page = c.get(reverse("admin:dbgov_task_change", args=[task.pk])).content.decode()
    assert "shop.0003_orders_user_history_index" in page
    assert "not yet" not in page  # every migration of the task reads applied
