"""The DBA's review page shows each migration's phase (a real plan, a real browser)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dbgov.analysis.engine import build_plan
from dbgov.governance.services import save_plan
from dbgov.models import PlanMigration

from .conftest import ShopCopy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_review_page_shows_pre_and_post_deploy(
    shop: ShopCopy, live_server: Any, page: Any, screenshot_dir: Any
) -> None:
    shop.migrate("shop", "0001_products")
    stored = save_plan(build_plan(database=shop.database))
    phases = dict(PlanMigration.objects.filter(plan=stored).values_list("name", "phase"))
    assert phases["0004_order_currency"] == "post" and phases["0002_orders"] == "pre"

    admin = User.objects.create_superuser("phase-dba", "dba@example.com", "x")
    client = Client()
    client.force_login(admin)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}{reverse('admin:dbgov_plan_review', args=[stored.pk])}")
    headings = page.locator("h2.dbgov-migration")
    by_label = {text.split("·")[0].strip(): text for text in headings.all_inner_texts()}
    assert "post-deploy" in by_label["shop.0004_order_currency"]
    assert "post-deploy" in by_label["shop.0008_remove_product_legacy_code"]
    assert "pre-deploy" in by_label["shop.0007_orders_status_index"]
    page.screenshot(path=str(screenshot_dir / "plan-review-phases.png"), full_page=True)
