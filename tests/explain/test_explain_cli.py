"""``manage.py dbgov explain``: errors a user can act on, exit codes CI can gate on."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from dbgov.models import ExplainRun, Task

from .conftest import ROOT, _url

pytestmark = pytest.mark.django_db(transaction=True)


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    default = connections["default"].settings_dict
    return subprocess.run(
        [sys.executable, "manage.py", "dbgov", "explain", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _url(default, default["NAME"]), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_dead_broker_is_a_clear_error_and_leaves_no_queued_run() -> None:
    Task.objects.create(key="T-021", title="Orders")
    result = run_cli("--task", "T-021", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2, result.stderr
    assert (
        "Cannot queue the rehearsal of T-021: the Celery broker redis://127.0.0.1:1/0 is unreachable"
        in result.stderr
    )
    assert "Nothing was queued" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not ExplainRun.objects.exists()


def test_other_aliases_are_refused() -> None:
    result = run_cli("--task", "T-021", "--database", "default")
    assert result.returncode == 2
    assert "refusing alias 'default'" in result.stderr
    assert not ExplainRun.objects.exists()


def test_a_task_no_migration_names_is_an_error() -> None:
    with pytest.raises(CommandError, match="No migration file names task T-999") as info:
        call_command("dbgov", "explain", "--task", "T-999")
    assert info.value.returncode == 2


def test_enqueue_prints_the_run_id_as_json(capsys: Any) -> None:
    # A live broker and no worker on this session's queue: the run stays queued.
    from io import StringIO

    out = StringIO()
    call_command("dbgov", "explain", "--task", "T-021", "--format", "json", stdout=out)
    run = ExplainRun.objects.get()
    assert out.getvalue().strip() == f'{{"run": {run.pk}, "task": "T-021", "status": "queued"}}'
    assert run.status == ExplainRun.Status.QUEUED
    assert run.task.title.startswith("T-021 (from shop.0002_orders, shop.0003")
