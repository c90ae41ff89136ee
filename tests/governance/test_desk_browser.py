"""The DBA's desk in a real browser (Playwright driving Debian's headless Chromium).

Deciding inline and moving on to the next finding; a developer viewing their own
findings and seeing no decision controls; statement facts per table; every dbgov page
fitting at 1400 px (no clipped column) and at 800 px (no sideways scroll), with
screenshots of each under artifacts/screenshots/desk/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from django.urls import reverse

from dbgov.analysis import model as am
from dbgov.governance import services
from dbgov.governance.roles import ensure_dba_group, ensure_developer_group
from dbgov.models import (
    Approval,
    ApprovalRequest,
    ExplainRun,
    MigrationRehearsal,
    Plan,
    QueryPlan,
    Task,
)

from .conftest import SHOP, build_plan, finding, migration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPLAIN_FIXTURES = Path(__file__).parent.parent / "explain" / "fixtures"

# Finds every table column that ends beyond the box that shows it (the page, or the
# nearest ancestor that clips or scrolls): a column a user cannot see without
# scrolling inside the page.
CLIPPED_JS = """
() => {
  const doc = document.documentElement;
  const clipped = [];
  for (const table of document.querySelectorAll('#content table')) {
    if (!table.offsetParent) continue;  // hidden (collapsed details)
    let box = table.parentElement;
    while (box && box !== document.body) {
      const o = getComputedStyle(box).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') break;
      box = box.parentElement;
    }
    const limit = (box && box !== document.body) ? box.getBoundingClientRect().right
                                                 : doc.clientWidth;
    for (const th of table.querySelectorAll('thead th')) {
      const r = th.getBoundingClientRect();
      if (r.width > 0 && r.right > limit + 1) clipped.push(th.innerText.trim() || th.className);
    }
  }
  // What sticks out of the page, to say why it scrolls sideways.
  const wide = [];
  for (const el of document.querySelectorAll('#content *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > doc.clientWidth + 1 && wide.length < 5)
      wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  return {clipped, wide, scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth};
}
"""


def load(name: str) -> Any:
    return json.loads((EXPLAIN_FIXTURES / name).read_text())


def login(page: Any, base: str, user: User) -> None:
    """Log in by session cookie (the login form itself is tested in test_browser_smoke)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def fk_statement() -> am.Statement:
    """ADD FOREIGN KEY: SHARE ROW EXCLUSIVE on both tables, as PostgreSQL takes it."""
    return am.Statement(
        sql='ALTER TABLE "shop_orderitem" ADD CONSTRAINT "fk_product" FOREIGN KEY '
        '("product_id") REFERENCES "shop_products" ("id");',
        facts=am.StatementFacts(
            sql="",
            node="AlterTableStmt",
            kind="ALTER TABLE",
            tables=("shop_orderitem", "shop_products"),
            locks=(
                am.TableLock("shop_orderitem", am.LockLevel.SHARE_ROW_EXCLUSIVE, scans=True),
                am.TableLock("shop_products", am.LockLevel.SHARE_ROW_EXCLUSIVE),
            ),
        ),
    )


@pytest.fixture
def desk(tmp_path: Path) -> dict[str, Any]:
    """Two DBAs, two developers with a task each, a pending plan with four findings
    to review, an applied migration nobody approved, and two rehearsal runs."""
    dba_group, dev_group = ensure_dba_group(), ensure_developer_group()
    users = {}
    for name, group in (
        ("dba", dba_group),
        ("dba2", dba_group),
        ("dev", dev_group),
        ("other", dev_group),
    ):
        users[name] = User.objects.create_user(name, password="pw", is_staff=True)
        users[name].groups.add(group)
    t21 = Task.objects.create(key="T-021", title="Create orders", owner=users["dev"])
    t36 = Task.objects.create(key="T-036", title="Rename total", owner=users["other"])
    path21 = tmp_path / "0097_orders_fk.py"
    path36 = tmp_path / "0098_rename_total.py"
    shutil.copy(SHOP / "0002_orders.py", path21)
    shutil.copy(SHOP / "0005_rename_order_total.py", path36)
    m21 = migration("0097_orders_fk", "T-021", ops=3, path=path21)
    m21.operations[2].statements = [fk_statement()]
    m36 = migration("0098_rename_total", "T-036", ops=1, path=path36)
    alternative = (
        "Use `AddConstraint` with `NOT VALID`, then `ValidateConstraint` in a later migration."
    )
    plan = services.save_plan(
        build_plan(
            m21,
            m36,
            findings=[
                finding(m21, 0, "set-not-null"),
                finding(m21, 1, "fk-cascade"),
                finding(m21, 2, "add-foreign-key-validated", safe_alternative=alternative),
                finding(m36, 0, "rename-column", am.Severity.PLAN),
            ],
        ),
        author=None,  # stored by CI
    )
    # A migration already applied here (0002_orders is in django_migrations) whose
    # finding nobody approved.
    applied = migration("0002_orders", "T-021", ops=1)
    services.save_plan(build_plan(applied, findings=[finding(applied, 0, "table-name-applied")]))
    run = _run(t21, nested=True)
    queued = ExplainRun.objects.create(task=t21, database_alias="staging", step="queued")
    return {"plan": plan, "users": users, "tasks": (t21, t36), "run": run, "queued": queued}


def _run(task: Task, *, nested: bool) -> ExplainRun:
    run = ExplainRun.objects.create(
        task=task,
        database_alias="staging",
        status="succeeded",
        step="done",
        duration_ms=2400.0,
        table_rows={"shop_orders": 100_000},
        migration_keys=["shop.0003_orders_user_history_index"],
    )
    MigrationRehearsal.objects.create(
        run=run,
        order=1,
        app_label="shop",
        name="0003_orders_user_history_index",
        task_key=task.key,
        duration_ms=1800.0,
        statements=[
            {
                "sql": 'CREATE INDEX "shop_orders_user_history_idx" ON "shop_orders" ("user_id", "created_at" DESC)',
                "ms": 1500.0,
                "at_ms": 0.2,
                "rows": None,
            }
        ],
        locks=[
            {
                "relation": "public.shop_orders",
                "mode": "ShareLock",
                "locktype": "relation",
                "granted": True,
                "samples": 70,
                "first_seen_ms": 20.0,
                "last_seen_ms": 1790.0,
            },
        ],
        size_before=50_000_000,
        size_after=52_500_000,
    )
    docs = {
        "user order history": (
            load("user_order_history_before.json"),
            load("user_order_history_after.json"),
        ),
    }
    if nested:
        docs["orders with their users"] = (
            load("nested_loop_55_loops.json"),
            load("nested_loop_55_loops.json"),
        )
    for name, (before, after) in docs.items():
        for phase, doc in (("before", before), ("after", after)):
            ms = doc[0]["Execution Time"]
            QueryPlan.objects.create(
                run=run,
                pattern_name=name,
                sql="SELECT … FROM shop_orders …",
                phase=phase,
                plan=doc,
                execution_ms=ms,
                access_path=doc[0]["Plan"].get("Node Type", ""),
                shared_hit_blocks=doc[0]["Plan"].get("Shared Hit Blocks"),
                shared_read_blocks=0,
                repetitions=[
                    {"execution_ms": ms * f, "planning_ms": 0.1, "blocks": 1, "plan": doc}
                    for f in (0.9, 1.0, 1.3)
                ],
                verdict="Seq Scan → Index Scan, 10 ms → 0.06 ms" if phase == "after" else "",
            )
    return run


def fits(page: Any) -> dict[str, Any]:
    return page.evaluate(CLIPPED_JS)  # type: ignore[no-any-return]


def test_deciding_inline_moves_on_to_the_next_open_finding(
    live_server: Any, page: Any, desk: dict[str, Any], screenshot_dir: Path
) -> None:
    base = live_server.url
    login(page, base, desk["users"]["dba"])
    page.goto(f"{base}{reverse('admin:dbgov_plan_review', args=[desk['plan'].pk])}")
    forms = page.locator("form.dbgov-decide-inline")
    assert forms.count() == 4  # four findings to review, none the DBA's own
    first = page.locator(".dbgov-finding", has=page.locator("form.dbgov-decide-inline")).first
    rule = first.locator("strong").first.inner_text()
    # Keyboard only: focus the reason, type it, Tab to Approve, Enter.
    reason = first.locator("textarea")
    assert first.locator(f"label[for='{reason.get_attribute('id')}']").count() == 1
    reason.focus()
    page.keyboard.type("Checked on staging: the table is small")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist")
    assert f"Approved: {rule}" in page.inner_text(".messagelist")
    decided = ApprovalRequest.objects.get(rule_id=rule)
    assert decided.status == "approved"
    assert Approval.objects.get(request=decided).reason == "Checked on staging: the table is small"
    # Landed on the next open finding of the same plan, its reason field focused.
    assert "focus=" in page.url
    focused = page.evaluate("document.activeElement.name")
    assert focused == "reason"
    nxt = int(page.url.rsplit("focus=", 1)[1])
    assert nxt != decided.pk and ApprovalRequest.objects.get(pk=nxt).status == "open"
    assert page.locator(f"#finding-{nxt}.dbgov-focus textarea").count() == 1
    page.screenshot(path=str(screenshot_dir / "desk-review-after-decision.png"), full_page=True)

    # Reject the next one from its request page: lands on the next item, not the queue.
    page.goto(f"{base}{reverse('admin:dbgov_approvalrequest_change', args=[nxt])}")
    summary_y = page.locator("#dbgov-summary").bounding_box()["y"]
    decide_y = page.locator("#dbgov-decide").bounding_box()["y"]
    assert summary_y < 400 and decide_y < 900  # the summary and decision lead the page
    page.fill("#dbgov-decide textarea[name=reason]", "Write it NOT VALID first")
    page.click("#dbgov-decide button[value=rejected]")
    page.wait_for_selector(".messagelist")
    assert ApprovalRequest.objects.get(pk=nxt).status == "rejected"
    assert "/approvalrequest/" in page.url and page.url.endswith("/change/")
    assert f"/{nxt}/" not in page.url


def test_statement_facts_per_table_with_explanations(
    live_server: Any, page: Any, desk: dict[str, Any]
) -> None:
    base = live_server.url
    login(page, base, desk["users"]["dba"])
    page.goto(f"{base}{reverse('admin:dbgov_plan_review', args=[desk['plan'].pk])}")
    facts = page.locator(".dbgov-statement", has_text="fk_product").locator(
        ".dbgov-statement-facts"
    )
    badges = facts.locator(".dbgov-badge").all_inner_texts()
    assert "SHARE ROW EXCLUSIVE on shop_orderitem" in badges
    assert "SHARE ROW EXCLUSIVE on shop_products" in badges
    assert "in transaction" in badges
    lock = facts.locator(".dbgov-badge", has_text="on shop_products")
    assert "writes wait" in lock.get_attribute("title")
    scan = facts.locator(".dbgov-fact-scan")
    assert "Reads every row" in scan.get_attribute("title")
    # One colour scale: the same lock has the same colour on every page.
    colour = lock.evaluate("e => getComputedStyle(e).backgroundColor")
    request = ApprovalRequest.objects.get(rule_id="set-not-null")
    page.goto(f"{base}{reverse('admin:dbgov_approvalrequest_change', args=[request.pk])}")
    strong = page.locator("#dbgov-summary .dbgov-badge", has_text="ACCESS EXCLUSIVE").first
    assert strong.evaluate("e => getComputedStyle(e).backgroundColor") != colour  # max vs high
    # Markdown safe alternatives: backticks become code.
    page.goto(f"{base}{reverse('admin:dbgov_plan_review', args=[desk['plan'].pk])}")
    alt = page.locator(".dbgov-alt", has_text="AddConstraint").first
    assert alt.locator("code", has_text="AddConstraint").count() == 1
    assert "`" not in alt.inner_text()


def test_queue_marks_own_stale_and_applied_without_approval(
    live_server: Any, page: Any, desk: dict[str, Any], screenshot_dir: Path
) -> None:
    base = live_server.url
    dev = desk["users"]["dev"]
    dev.groups.add(ensure_dba_group())  # a developer who is also a DBA: four eyes apply
    login(page, base, dev)
    page.goto(f"{base}{reverse('admin:dbgov_approvalrequest_changelist')}")
    own = page.locator("#result_list tbody tr", has_text="fk-cascade")
    assert "yours" in own.inner_text()
    other = page.locator("#result_list tbody tr", has_text="rename-column")
    assert "yours" not in other.inner_text()
    applied = page.locator("#result_list tbody tr", has_text="table-name-applied")
    assert "applied without approval" in applied.inner_text()
    assert page.locator("label", has_text="Reason for the decision").count() == 1
    page.screenshot(path=str(screenshot_dir / "desk-queue-marks.png"), full_page=True)


def test_developer_views_own_findings_and_sees_no_decision_controls(
    live_server: Any, page: Any, desk: dict[str, Any], screenshot_dir: Path
) -> None:
    base = live_server.url
    login(page, base, desk["users"]["dev"])
    page.goto(f"{base}/admin/")
    assert "permission to view or edit anything" not in page.inner_text("#content")
    page.goto(f"{base}{reverse('admin:dbgov_approvalrequest_changelist')}?status=all")
    rows = page.locator("#result_list tbody tr").all_inner_texts()
    assert any("fk-cascade" in r for r in rows)
    assert not any("rename-column" in r for r in rows)  # T-036 is someone else's
    assert page.locator("select[name=action]").count() == 0  # no bulk decisions
    page.goto(f"{base}{reverse('admin:dbgov_plan_review', args=[desk['plan'].pk])}")
    assert page.locator(".dbgov-finding").count() >= 3
    assert page.locator("form.dbgov-decide-inline").count() == 0
    assert page.locator("button.dbgov-rehearse").count() == 0
    request = ApprovalRequest.objects.get(rule_id="fk-cascade")
    page.goto(f"{base}{reverse('admin:dbgov_approvalrequest_change', args=[request.pk])}")
    assert page.locator("#dbgov-decide").count() == 0
    assert "approve_finding" in page.inner_text(".dbgov-why-not")
    page.goto(f"{base}{reverse('admin:dbgov_task_change', args=[desk['tasks'][0].pk])}")
    assert page.locator("button.dbgov-rehearse").count() == 0
    page.goto(f"{base}{reverse('admin:dbgov_explainrun_change', args=[desk['run'].pk])}")
    assert "user order history" in page.inner_text("#content")
    # Someone else's finding and the audit log: a 403 in the admin's look.
    theirs = ApprovalRequest.objects.get(rule_id="rename-column")
    response = page.goto(f"{base}{reverse('admin:dbgov_approvalrequest_change', args=[theirs.pk])}")
    assert response.status == 403 and page.locator("#header").count() == 1
    response = page.goto(f"{base}{reverse('admin:dbgov_auditevent_changelist')}")
    assert response.status == 403 and page.locator("#user-tools").count() == 1
    assert "dbgov.view_auditevent" in page.inner_text(".errornote")
    page.screenshot(path=str(screenshot_dir / "desk-403.png"), full_page=True)


def test_dba_sees_rehearse_buttons_and_holds_the_permission(
    live_server: Any, page: Any, desk: dict[str, Any]
) -> None:
    dba = desk["users"]["dba"]
    assert dba.has_perm("dbgov.rehearse_task")
    login(page, live_server.url, dba)
    page.goto(f"{live_server.url}{reverse('admin:dbgov_task_change', args=[desk['tasks'][0].pk])}")
    assert page.locator("button.dbgov-rehearse").count() == 1


def test_run_page_refreshes_until_the_run_ends(
    live_server: Any, page: Any, desk: dict[str, Any]
) -> None:
    base = live_server.url
    login(page, base, desk["users"]["dba"])
    queued = desk["queued"]
    page.goto(f"{base}{reverse('admin:dbgov_explainrun_change', args=[queued.pk])}")
    assert page.locator("#dbgov-refresh").count() == 1
    # The worker finishes the run meanwhile (as a worker writes it).
    ExplainRun.objects.filter(pk=queued.pk).update(status="succeeded", step="done")
    QueryPlan.objects.create(
        run=queued,
        pattern_name="user order history",
        sql="SELECT 1",
        phase="after",
        plan=load("user_order_history_after.json"),
        execution_ms=0.06,
        verdict="Index Scan, 0.06 ms",
    )
    connections.close_all()
    page.wait_for_selector("text=Index Scan, 0.06 ms", timeout=15_000)
    assert page.locator("#dbgov-refresh").count() == 0


def test_nested_loop_inner_side_is_not_a_false_misestimate(
    live_server: Any, page: Any, desk: dict[str, Any], screenshot_dir: Path
) -> None:
    base = live_server.url
    login(page, base, desk["users"]["dba"])
    page.goto(f"{base}{reverse('admin:dbgov_explainrun_change', args=[desk['run'].pk])}")
    section = page.locator("section.dbgov-query", has_text="orders with their users")
    inner = section.locator(".dbgov-side").first.locator("tr", has_text="users_pkey")
    assert "1 / 1" in inner.locator("td.dbgov-est").inner_text()
    assert inner.locator("td.dbgov-est.dbgov-misestimate").count() == 0
    assert "55" in inner.locator("td").nth(3).inner_text()  # loops
    assert section.locator(".dbgov-misestimate").count() == 0
    # pev2's node facts: rows removed by filter, sort memory, time and buffer bars.
    text = section.inner_text()
    assert "99,945 rows removed by filter" in text and "quicksort, 27 kB memory" in text
    assert section.locator(".dbgov-bar").count() >= 8
    # Raw JSON for pev2.
    href = section.locator("a.dbgov-raw").first.get_attribute("href")
    raw = page.request.get(f"{base}{href}")
    assert raw.status == 200 and raw.json()[0]["Plan"]["Node Type"] == "Sort"
    # Before/after: spreads and aligned steps with deltas.
    history = page.locator("section.dbgov-query", has_text="user order history")
    assert "3 runs" in history.locator("table.dbgov-compare").first.inner_text()
    aligned = history.locator("table.dbgov-aligned tbody tr").all_inner_texts()
    assert any("Seq Scan on shop_orders" in r and "Index Scan" in r for r in aligned)
    page.screenshot(path=str(screenshot_dir / "desk-run-plans.png"), full_page=True)


def dbgov_pages(desk: dict[str, Any]) -> dict[str, str]:
    plan: Plan = desk["plan"]
    t21 = desk["tasks"][0]
    request = ApprovalRequest.objects.get(rule_id="add-foreign-key-validated")
    services.approve(
        ApprovalRequest.objects.get(rule_id="fk-cascade"), user=desk["users"]["dba2"], reason="ok"
    )
    return {
        "tasks": reverse("admin:dbgov_task_changelist"),
        "task": reverse("admin:dbgov_task_change", args=[t21.pk]),
        "task-report": reverse("admin:dbgov_task_report", args=[t21.pk]),
        "plans": reverse("admin:dbgov_plan_changelist"),
        "review": reverse("admin:dbgov_plan_review", args=[plan.pk]),
        "queue": reverse("admin:dbgov_approvalrequest_changelist"),
        "request": reverse("admin:dbgov_approvalrequest_change", args=[request.pk]),
        "decisions": reverse("admin:dbgov_approval_changelist"),
        "audit": reverse("admin:dbgov_auditevent_changelist"),
        "ledger": reverse("admin:dbgov_ledger_changelist"),
        "runs": reverse("admin:dbgov_explainrun_changelist"),
        "run": reverse("admin:dbgov_explainrun_change", args=[desk["run"].pk]),
        "run-queued": reverse("admin:dbgov_explainrun_change", args=[desk["queued"].pk]),
        "patterns": reverse("admin:dbgov_querypattern_changelist"),
    }


@pytest.mark.parametrize("width", [1400, 800])
def test_every_dbgov_page_fits(
    live_server: Any, page: Any, desk: dict[str, Any], screenshot_dir: Path, width: int
) -> None:
    base = live_server.url
    out = screenshot_dir / "desk"
    out.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    problems = {}
    pages = dbgov_pages(desk)
    for user in ("dba", "dev"):
        page.context.clear_cookies()
        login(page, base, desk["users"][user])
        for name, url in pages.items():
            response = page.goto(f"{base}{url}")
            if user == "dev" and response.status == 403:
                continue  # audit and ledger are the DBAs'
            assert response.status == 200, (user, name, response.status)
            page.screenshot(path=str(out / f"{name}-{user}-{width}.png"), full_page=True)
            result = fits(page)
            if width >= 1400 and result["clipped"]:
                problems[(user, name)] = f"clipped columns: {result['clipped']}"
            if result["scrollWidth"] > result["clientWidth"]:
                problems[(user, name)] = (
                    f"scrolls sideways: {result['scrollWidth']} > {result['clientWidth']}: "
                    f"{result['wide']}"
                )
    assert not problems, problems
