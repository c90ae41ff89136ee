"""The task's completion report: ``dbgov report --task`` and the task's report page."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from dbgov.governance import services
from dbgov.governance.handover import build_handover
from dbgov.models import ApprovalRequest, ExplainRun, QueryPlan, Task

from .conftest import build_plan, finding, migration

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent.parent / "explain" / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def rehearsed(task: Task) -> ExplainRun:
    run = ExplainRun.objects.create(
        task=task,
        database_alias="staging",
        status="succeeded",
        step="done",
        table_rows={"shop_orders": 100_000},
    )
    sql = "SELECT id FROM shop_orders WHERE user_id = %(user_id)s ORDER BY created_at DESC LIMIT 20"
    for phase, name, times, access in (
        ("before", "user_order_history_before.json", [15.0, 16.0, 19.0], "Seq Scan"),
        ("after", "user_order_history_after.json", [0.03, 0.04, 0.05], "Index Scan using idx"),
    ):
        QueryPlan.objects.create(
            run=run,
            pattern_name="user order history",
            sql=sql,
            phase=phase,
            plan=load(name),
            execution_ms=times[1],
            access_path=access,
            repetitions=[{"execution_ms": t} for t in times],
        )
    return run


@pytest.fixture
def t021(users: dict[str, Any], tasks: dict[str, Any]) -> Task:
    task = tasks["T-021"]
    task.acceptance_criteria = "- index orders.user_id"
    task.save()
    return task


def test_report_of_a_task_in_review(t021: Task, users: dict[str, Any]) -> None:
    # The real 0002_orders and 0003 name T-021 and are applied in the test database.
    h = build_handover(t021)
    labels = [m.label for m in h.migrations]
    assert labels == ["shop.0002_orders", "shop.0003_orders_user_history_index"]
    assert all(m.applied and m.reversible for m in h.migrations)
    orders, index = h.migrations
    assert any(s.startswith('CREATE TABLE "shop_orders"') for s in orders.forward_sql)
    assert any(s.startswith('DROP TABLE "shop_orders"') for s in orders.rollback_sql)
    assert any("shop_orders_user_history_idx" in s for s in index.rollback_sql)
    assert "no successful rehearsal on a staging copy yet (dbgov explain)" in h.open_items
    assert not h.done


def test_report_with_rehearsal_and_decisions(
    t021: Task, users: dict[str, Any], shop_pending: None
) -> None:
    m = migration("0003_orders_user_history_index", "T-021", ops=1)
    services.save_plan(build_plan(m, findings=[finding(m, 0, "create-index-not-concurrently")]))
    request = ApprovalRequest.objects.get()
    services.approve(request, user=users["dba"], reason="100K rows: builds in 1.5 s at night")
    rehearsed(t021)
    h = build_handover(t021)
    (verdict,) = h.verdicts
    assert verdict.verdict == "Seq Scan → Index Scan, verified on 100K rows, 16 ms → 0.04 ms"
    (decision,) = h.decisions
    assert decision.reviewer == "dba" and "builds in 1.5 s" in decision.reason
    # shop_pending marked the shop migrations unapplied: that is what is still open.
    assert h.open_items == [
        "shop.0002_orders is not applied",
        "shop.0003_orders_user_history_index is not applied",
    ]


def test_cli_formats_and_exit_codes(t021: Task) -> None:
    rehearsed(t021)
    out = StringIO()
    call_command("dbgov", "report", "--task", "T-021", stdout=out)  # nothing open: exit 0
    text = out.getvalue()
    assert text.startswith("T-021 Create orders: ")
    assert "Schema changes:" in text and "Rollback:" in text and 'DROP TABLE "shop_orders"' in text
    assert "verified on 100K rows" in text and "Nothing is open" in text
    out = StringIO()
    call_command("dbgov", "report", "--task", "T-021", "--format", "markdown", stdout=out)
    md = out.getvalue()
    assert md.startswith("## T-021 Create orders") and "```sql" in md and "### Rollback" in md
    out = StringIO()
    call_command("dbgov", "report", "--task", "T-021", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["done"] is True and data["migrations"][0]["label"] == "shop.0002_orders"
    with pytest.raises(CommandError, match="No task T-999") as info:
        call_command("dbgov", "report", "--task", "T-999")
    assert info.value.returncode == 2


def test_cli_exits_1_while_something_is_open(t021: Task) -> None:
    with pytest.raises(SystemExit) as code:
        call_command("dbgov", "report", "--task", "T-021", stdout=StringIO())
    assert code.value.code == 1


def test_report_page_and_downloads(t021: Task, users: dict[str, Any]) -> None:
    rehearsed(t021)
    c = Client()
    c.force_login(users["dba"])
    url = reverse("admin:dbgov_task_report", args=[t021.pk])
    page = c.get(url).content.decode()
    assert "Completion report of T-021" in page and "verified on 100K rows" in page
    assert "DROP TABLE" in page
    md = c.get(url + "?format=markdown")
    assert md["Content-Disposition"] == 'attachment; filename="T-021-report.md"'
    assert c.get(url + "?format=json").json()["task"] == "T-021"
