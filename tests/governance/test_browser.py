"""The approval queue in a real browser: Playwright driving Debian's headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from dbgov.governance import services
from dbgov.governance.roles import ensure_dba_group
from dbgov.models import Approval, ApprovalRequest, Plan, Task

from .conftest import SHOP, build_plan, finding, migration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review_setup(tmp_path: Path) -> dict[str, Any]:
    """T-021 with a pending (not yet applied) migration and one finding to review."""
    group = ensure_dba_group()
    dba = User.objects.create_user("dba", password="dba-pass", is_staff=True)
    dba.groups.add(group)
    dev = User.objects.create_user("dev", password="dev-pass", is_staff=True)
    dev.user_permissions.add(*group.permissions.exclude(codename="approve_finding"))
    Task.objects.create(key="T-021", title="Create orders", owner=dev)
    path = tmp_path / "0099_orders_cascade.py"
    shutil.copy(SHOP / "0002_orders.py", path)
    m = migration("0099_orders_cascade", "T-021", ops=2, path=path)
    plan = services.save_plan(build_plan(m, findings=[finding(m, 1, "fk-cascade")]))
    return {"plan": plan, "dba": dba, "dev": dev}


def login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def test_dba_approves_from_the_queue_and_the_task_becomes_approved(
    live_server: Any, page: Any, review_setup: dict[str, Any], screenshot_dir: Path
) -> None:
    base = live_server.url
    assert Task.objects.get(key="T-021").status == Task.Status.IN_REVIEW
    login(page, base, "dba", "dba-pass")
    page.goto(f"{base}/admin/dbgov/approvalrequest/")
    page.click("text=fk-cascade")
    page.fill("#dbgov-decide textarea[name=reason]", "CASCADE is intended: orders own their items")
    page.click("#dbgov-decide button[value=approved]")
    page.wait_for_selector(".messagelist")
    assert "Approved" in page.inner_text(".messagelist")
    assert Approval.objects.get().reviewer.username == "dba"
    page.goto(f"{base}/admin/dbgov/task/")
    row = page.locator("tr", has_text="T-021")
    assert "Approved" in row.inner_text()
    # the review page, with its highlighted SQL, as a test artifact
    page.goto(f"{base}/admin/dbgov/plan/{review_setup['plan'].pk}/review/")
    assert page.locator(".dbgov-sql").count() >= 2
    assert "approved" in page.inner_text(".dbgov-finding")
    shot = screenshot_dir / "governance-review-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_developer_sees_no_approve_control_and_a_forged_post_gets_403(
    live_server: Any, page: Any, review_setup: dict[str, Any]
) -> None:
    base = live_server.url
    login(page, base, "dev", "dev-pass")
    request = ApprovalRequest.objects.get()
    page.goto(f"{base}/admin/dbgov/approvalrequest/{request.pk}/change/")
    assert page.locator("#dbgov-decide").count() == 0
    assert "approve_finding" in page.inner_text(".dbgov-why-not")
    page.goto(f"{base}/admin/dbgov/approvalrequest/")
    assert page.locator("option[value=approve_selected]").count() == 0
    # forge the POST with the page's own CSRF token: the server still refuses
    token = page.evaluate(
        "() => document.cookie.split('; ').find(c => c.startsWith('csrftoken=')).split('=')[1]"
    )
    response = page.request.post(
        f"{base}/admin/dbgov/approvalrequest/{request.pk}/decide/",
        form={"decision": "approved", "reason": "forged", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/admin/", "X-CSRFToken": token},
    )
    assert response.status == 403
    assert not Approval.objects.exists()
    assert Plan.objects.count() == 1
