"""Shared test fixtures. Areas add their own in tests/<area>/conftest.py.

Browser tests
-------------
``browser`` (session-scoped) is Debian's headless Chromium driven by Playwright's sync
API; ``page`` (function-scoped) is a fresh page in a fresh browser context, so cookies
and storage never leak between tests. Combine it with pytest-django's ``live_server``::

    @pytest.mark.browser
    def test_admin(page, live_server, admin_user, screenshot_dir):
        page.goto(f"{live_server.url}/admin/")
        page.screenshot(path=screenshot_dir / "admin.png")

- A test that uses ``browser`` or ``page`` is marked ``browser`` automatically (so
  ``-m "not browser"`` deselects it) and runs after all other tests: Playwright's sync
  API keeps an asyncio loop in the main thread, which makes Django's async-safety check
  refuse ORM calls, so ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while Playwright is running,
  and running those tests last keeps that relaxation away from every other test.
- Chromium is ``$DBGOV_CHROMIUM`` (default ``/usr/bin/chromium``, Debian's package, which
  ``scripts/test.sh`` installs); Playwright never downloads a browser. Without it the
  browser tests are skipped on a developer machine and fail in CI (``CI`` set).
- ``screenshot_dir`` is ``artifacts/screenshots/`` (git-ignored); a failing browser test
  leaves a screenshot of its page in ``artifacts/screenshots/failures/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = REPO_ROOT / "artifacts"
BROWSER_FIXTURES = {"browser", "page"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# The fast tier (`scripts/test.sh -m "not slow"`) leaves these out: the browser and
# worker tests, and the folders whose tests start servers or replay whole corpora.
SLOW_MARKERS = ("browser", "worker")
SLOW_PATHS = ("tests/analysis/oracle/", "tests/sandbox/", "tests/infra/")
# Fixtures that make a database, a staging copy, a worker or a server per test.
SLOW_FIXTURES = {
    "scratch_db",
    "live_server",
    "staging_test_db",
    "worker_env",
    "start_worker",
    "rehearsal_worker",
    "shop_pending",
    "cluster",
}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark tests that use the browser fixtures ``browser`` (before ``-m`` selects), and
    the slow ones ``slow``."""
    if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
        item.add_marker(pytest.mark.browser)
    path = Path(str(item.path)).resolve().relative_to(REPO_ROOT).as_posix()
    slow_fixtures = SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
    if (
        slow_fixtures
        or any(item.get_closest_marker(m) for m in SLOW_MARKERS)
        or path.startswith(SLOW_PATHS)
    ):
        item.add_marker(pytest.mark.slow)


@pytest.hookimpl(trylast=True)  # after pytest-django has ordered the tests by database use
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last, keeping the order within both groups."""
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    other_items = [item for item in items if not item.get_closest_marker("browser")]
    items[:] = other_items + browser_items


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the item so `page` can tell whether its test failed.
    report = yield
    setattr(item, f"_dbgov_report_{report.when}", report)
    return report


def chromium_executable() -> Path:
    return Path(os.environ.get("DBGOV_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), shared by the whole session."""
    executable = chromium_executable()
    if not os.access(executable, os.X_OK):
        message = (
            f"no Chromium at {executable}: install Debian's chromium "
            "(scripts/test.sh does so as root) or set DBGOV_CHROMIUM"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # pragma: no cover - a misuse, reported clearly
        pytest.fail("the browser fixtures use Playwright's sync API: not inside an asyncio loop")

    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Generator[Page]:
    """A page in a fresh browser context (own cookies and storage) for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        report = getattr(request.node, "_dbgov_report_call", None)
        if report is not None and report.failed:
            failures = ARTIFACTS_DIR / "screenshots" / "failures"
            failures.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            # The page may be what broke; the test's own error says more than this.
            with contextlib.suppress(Exception):
                new_page.screenshot(path=str(failures / f"{name}.png"), full_page=True)
        context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    """``artifacts/screenshots/`` (git-ignored), created on demand."""
    path = ARTIFACTS_DIR / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- the sandbox: private to the test session ---------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def private_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A sandbox folder and a render cache of this test session's own.

    The embedded cluster the tests start lives under a temporary folder (so a developer's
    running sandbox is never touched) and is stopped and removed at the end; the render
    cache starts empty, so no test depends on what another one rendered.
    """
    from django.conf import settings

    root = Path(tempfile.mkdtemp(prefix="dbgov-test-sbx-"))
    cache = tmp_path_factory.mktemp("render-cache")
    override = override_settings(
        DBGOV={**settings.DBGOV, "SANDBOX_DIR": str(root), "CACHE_DIR": str(cache)}
    )
    override.enable()
    try:
        yield root
    finally:
        from dbgov.sandbox.cluster import EmbeddedCluster

        for cluster in EmbeddedCluster.existing(root):
            with contextlib.suppress(Exception):
                cluster.stop(remove=True)
        override.disable()
        shutil.rmtree(root, ignore_errors=True)


# -- the gate on migrate -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _dbgov_gate_off_inside_tests(settings: Any) -> None:
    """CI runs with DBGOV_ENFORCE_ON_MIGRATE=1: the test databases are created with the
    gate on (it must let them through). Inside a test, scaffolding migrates scratch
    databases freely; tests of the gate turn it on themselves."""
    settings.DBGOV = {**getattr(settings, "DBGOV", {}), "ENFORCE_ON_MIGRATE": False}


# -- migration scenarios: scratch databases and swapped shop histories -------------------


def _admin_cursor():
    return connections["default"]._nodb_cursor()


@pytest.fixture
def scratch_db(django_db_blocker) -> Iterator[str]:
    """A new, empty database under the alias ``scratch`` (dropped afterwards).

    Every app but shop is migrated, so the shop app's migrations are all pending:
    each test decides what the shop history is (``shop_migrations``).
    """
    alias = "scratch"
    name = f"dbgov_test_scratch_{secrets.token_hex(4)}"
    with django_db_blocker.unblock():
        with _admin_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        settings_dict = copy.deepcopy(connections.settings["default"])
        settings_dict["NAME"] = name
        connections.settings[alias] = settings_dict
        try:
            for app in ("contenttypes", "auth", "admin", "sessions", "dbgov"):
                call_command("migrate", app, database=alias, verbosity=0)
            yield alias
        finally:
            connections[alias].close()
            del connections[alias]
            del connections.settings[alias]
            with _admin_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def shop_migrations(request):
    """Swap the shop app's migrations for a scenario package: use with indirect params
    or call the returned function with the scenario name."""
    overrides = []

    def use(scenario: str) -> None:
        module = f"tests.analysis.scenarios.{scenario}" if "." not in scenario else scenario
        o = override_settings(MIGRATION_MODULES={"shop": module})
        o.enable()
        overrides.append(o)

    yield use
    for o in reversed(overrides):
        o.disable()
