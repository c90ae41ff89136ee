"""Rehearsals close the loop of the risk estimates: a real worker rehearses T-021 (an
index on 100K orders) on a staging copy, measures the index build's throughput, and the
plan then shows the rehearsed duration beside the estimate."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from dbgov.models import ExplainRun, Throughput

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_rehearsal_measures_throughput_and_the_plan_shows_it(
    rehearsal_worker: Any, worker_env: dict[str, str]
) -> None:
    # exit 1 when a human should look (timings on a busy machine): the run is what counts
    with contextlib.suppress(SystemExit):
        call_command(
            "dbgov", "explain", "--task", "T-021", "--wait", "--timeout", "120",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    run = ExplainRun.objects.get(task__key="T-021")
    assert run.status == ExplainRun.Status.SUCCEEDED, run.error
    (rehearsed,) = run.migrations.all()
    (index,) = [s for s in rehearsed.statements if s.get("kind") == "index"]
    assert index["table"] == "shop_orders" and index["table_rows"] > 90_000
    assert index["work"] == index["table_rows"]  # an index build's work is rows
    measured = Throughput.objects.get(kind="index")
    assert measured.samples == 1
    rate = measured.fitted()
    assert rate is not None and rate.overhead_s == 0  # one point: through the origin
    assert rate.per_s == pytest.approx(index["work"] / (index["ms"] / 1000))

    # `dbgov plan` of staging, as a deploy would run it (the worker's environment: this
    # test's databases, where the rehearsal and the throughput are stored)
    done = subprocess.run(
        [sys.executable, "manage.py", "dbgov", "plan", "--database", "staging",
         "--task", "T-021", "--no-save", "--format", "json"],
        cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    doc = json.loads(done.stdout)
    (statement,) = [
        s
        for m in doc["migrations"]
        for o in m["operations"]
        for s in o["statements"]
        if s["estimate"] and s["estimate"]["kind"] == "index"
    ]
    estimate = statement["estimate"]
    assert statement["sql"].rstrip(";") == index["sql"], (statement["sql"], index["sql"])
    assert estimate["rows"] > 90_000
    assert estimate["rate_source"] == "measured on this server (1 statement(s))"
    assert estimate["rehearsed_s"] == pytest.approx(index["ms"] / 1000)
    assert estimate["rehearsed_rows"] == index["table_rows"]
    # calibrated on this very statement: the estimate is about the rehearsed time (the
    # copy's statistics and staging's differ by ANALYZE's sampling)
    assert estimate["seconds"] == pytest.approx(estimate["rehearsed_s"], rel=0.5, abs=0.002)
    assert "· rehearsed" in estimate["text"] and "on staging (100K rows)" in estimate["text"]
