"""Rehearsal without surprises: with no staging alias or no Celery app, ``explain`` and the
Rehearse buttons say what to configure; W002 fires only when rehearsal was asked for."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import celery._state
import pytest
from celery import Celery
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from dbgov.checks import check_settings
from dbgov.explain.readiness import RehearsalNotConfigured, rehearsal_readiness
from dbgov.explain.runs import enqueue_rehearsal
from dbgov.models import ExplainRun, Task

NO_STAGING = {k: v for k, v in settings.DATABASES.items() if k != "staging"}


def w002() -> list[str]:
    return [m.msg for m in check_settings() if m.id == "dbgov.W002"]


@pytest.fixture
def no_celery_app() -> Iterator[None]:
    """Celery as a project without a Celery app has it: only Celery's fallback app."""
    saved_current, saved_default = celery._state.get_current_app(), celery._state.default_app
    fallback = Celery("default", fixups=[], set_as_current=False)
    celery._state.default_app = fallback
    celery._state._set_current_app(fallback)
    try:
        yield
    finally:
        celery._state.default_app = saved_default
        celery._state._set_current_app(saved_current)


def test_the_demo_is_ready() -> None:
    readiness = rehearsal_readiness()
    assert (readiness.configured, readiness.problem) == (True, None)
    assert w002() == []


def test_no_staging_alias_means_rehearsal_is_off_and_silent() -> None:
    with override_settings(DATABASES=NO_STAGING, DBGOV={}):
        readiness = rehearsal_readiness()
        assert readiness.configured is False
        assert "no staging database: add DATABASES['staging']" in (readiness.problem or "")
        assert w002() == []


def test_a_named_staging_alias_that_is_missing_warns() -> None:
    with override_settings(DBGOV={"STAGING_DATABASE": "stage"}):
        (message,) = w002()
    assert message.startswith("Rehearsals are configured but cannot run: no staging database")
    assert "DATABASES['stage']" in message


def test_no_celery_app_warns_and_explain_says_what_to_configure(no_celery_app: None) -> None:
    (message,) = w002()
    assert "no Celery app is configured" in message
    with pytest.raises(CommandError) as raised:
        call_command(
            "dbgov", "explain", "--task", "T-021", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert raised.value.returncode == 2
    assert str(raised.value).startswith("cannot rehearse: no Celery app is configured")
    assert "docs/adopting.md" in str(raised.value)


@pytest.mark.django_db
def test_enqueue_without_a_celery_app_queues_nothing(no_celery_app: None) -> None:
    task = Task.objects.create(key="T-021", title="orders")
    with pytest.raises(RehearsalNotConfigured, match="no Celery app"):
        enqueue_rehearsal(task, requested_by="test")
    assert not ExplainRun.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("ready", [True, False])
def test_rehearse_buttons_show_only_when_rehearsal_is_ready(
    client: Any, admin_user: Any, ready: bool, request: pytest.FixtureRequest
) -> None:
    task = Task.objects.create(key="T-021", title="orders")
    client.force_login(admin_user)
    if not ready:
        request.getfixturevalue("no_celery_app")
    page = client.get(f"/admin/dbgov/task/{task.pk}/change/").content.decode()
    assert ("dbgov-rehearse" in page) is ready
    # and a POST anyway explains instead of failing with HTTP 500
    if not ready:
        response = client.post(f"/admin/dbgov/explainrun/rehearse/{task.pk}/", follow=True)
        assert response.status_code == 200
        assert '<li class="error">No Celery app is configured' in response.content.decode()
        assert not ExplainRun.objects.exists()


def _login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_rehearse_button_in_a_browser_per_user_and_configuration(
    page: Any, live_server: Any, admin_user: Any, request: pytest.FixtureRequest
) -> None:
    """A real browser: the button shows to a user who may rehearse when rehearsal is
    ready; never to a user without the permission; to nobody without a Celery app."""
    from django.contrib.auth.models import User

    from dbgov.governance.roles import ensure_developer_group

    developer = User.objects.create_user("dev", password="dev-pass", is_staff=True)
    developer.groups.add(ensure_developer_group())
    assert not developer.has_perm("dbgov.rehearse_task")
    task = Task.objects.create(key="T-021", title="orders", owner=developer)
    url = f"{live_server.url}/admin/dbgov/task/{task.pk}/change/"
    button = page.get_by_role("button", name="Rehearse")

    _login(page, live_server.url, "admin", "password")
    page.goto(url)
    assert button.count() == 1
    page.context.clear_cookies()

    _login(page, live_server.url, "dev", "dev-pass")
    page.goto(url)
    assert page.locator("#content").count() == 1 and button.count() == 0
    page.context.clear_cookies()

    request.getfixturevalue("no_celery_app")
    _login(page, live_server.url, "admin", "password")
    page.goto(url)
    assert page.locator("#content").count() == 1 and button.count() == 0
