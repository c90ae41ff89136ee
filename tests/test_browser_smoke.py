"""The browser harness end to end: Debian's Chromium, Playwright, the live server, the admin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_admin_login_and_index(
    page: Page, live_server: Any, admin_user: User, screenshot_dir: Path
) -> None:
    page.goto(f"{live_server.url}/admin/")

    # Not logged in: the admin redirects to its login page.
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
    expect(page.locator("#login-form")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "admin_login.png"))

    # A wrong password is refused by the real authentication backend...
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "wrong password")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_be_visible()

    # ...the right one (pytest-django's admin_user has password "password") gets in.
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#user-tools")).to_contain_text(admin_user.username)
    # The index lists the installed apps registered with the admin.
    expect(page.locator("#content-main")).to_contain_text("Authentication and Authorization")

    # The admin's stylesheet was served (the live server serves static files).
    background = page.evaluate(
        "getComputedStyle(document.querySelector('#header')).backgroundColor"
    )
    assert background not in ("", "rgba(0, 0, 0, 0)")

    shot = screenshot_dir / "admin_index.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5_000
