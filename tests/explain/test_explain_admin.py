"""The admin pages, driven in headless Chromium: Rehearse on the task page, the run
page with both plans side by side, the run list. A real worker does the rehearsal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from dbgov.models import ExplainRun, Task

from .conftest import ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

ARTIFACTS = ROOT / "artifacts" / "screenshots" / "explain"


@pytest.fixture
def admin_page(page: Any, live_server: Any, admin_user: Any) -> Iterator[Any]:
    """The shared ``page`` (tests/conftest.py), logged in to the admin as a superuser."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.base = live_server.url
    yield page
    # ORM calls made while Playwright drives the page have connections of their own.
    connections.close_all()


def _shot(pg: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def test_rehearse_from_the_task_page_and_read_the_run(
    admin_page: Any, rehearsal_worker: Any
) -> None:
    page = admin_page
    task = Task.objects.create(key="T-021", title="Create orders and order_items tables")
    page.goto(f"{page.base}/admin/dbgov/task/{task.pk}/change/")
    page.get_by_role("button", name="Rehearse").click()
    page.wait_for_load_state()
    run = ExplainRun.objects.get(task=task)
    assert page.url.endswith(f"/admin/dbgov/explainrun/{run.pk}/change/")
    assert f"Queued rehearsal run {run.pk} of T-021" in page.content()

    deadline = time.monotonic() + 120
    while not run.is_terminal and time.monotonic() < deadline:
        time.sleep(0.3)
        run.refresh_from_db()
    assert run.status == ExplainRun.Status.SUCCEEDED, run.error
    page.reload()
    _shot(page, "run")

    history = page.locator("section.dbgov-query", has_text="user order history")
    verdict = history.locator(".dbgov-verdict").inner_text()
    assert verdict.startswith(("Seq Scan → Index Scan, ", "Parallel Seq Scan → Index Scan, "))
    assert "ms →" in verdict
    before, after = history.locator(".dbgov-side").all()
    assert before.locator("h4").inner_text() == "Before"
    assert "Seq Scan" in before.locator("tr.dbgov-slowest").inner_text()  # slowest node
    after_nodes = after.locator("table.dbgov-plan tbody tr").all_inner_texts()
    assert any("Index Scan" in n and "shop_orders_user_history_idx" in n for n in after_nodes)
    # Per node: time with its share, rows per loop (actual / estimated), loops, buffers.
    headers = before.locator("table.dbgov-plan thead th").all_inner_texts()
    assert [h.lower() for h in headers] == ["node", "time", "rows per loop", "loops", "buffers"]
    rehearsal = page.locator("section.dbgov-migration-report").first
    text = rehearsal.inner_text().replace("\n", " ")
    assert "shop.0003_orders_user_history_index" in text
    assert "SHARE on public.shop_orders" in text
    assert "database size +" in text

    page.goto(f"{page.base}/admin/dbgov/explainrun/")
    _shot(page, "runs")
    row = page.locator("#result_list tbody tr").first
    assert "T-021" in row.inner_text() and "Succeeded" in row.inner_text()
    assert "Index Scan" in row.inner_text()
