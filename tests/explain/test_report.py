"""The rehearsal report of a stored run: text, Markdown for a PR comment, JSON, --show."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from dbgov.explain.report import build_report, mode_name, render_markdown, render_text
from dbgov.models import ExplainRun, MigrationRehearsal, QueryPlan, Task

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = pytest.mark.django_db


def load(name: str) -> list:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def finished_run() -> ExplainRun:
    """A run as the worker stores it (the worker itself is tested in test_rehearsal_worker)."""
    task = Task.objects.create(key="T-021", title="Create orders and order_items tables")
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
        task_key="T-021",
        duration_ms=1800.0,
        statements=[
            {"sql": "SET lock_timeout = '5s'", "ms": 0.1, "at_ms": 0.0, "rows": None},
            {
                "sql": 'CREATE INDEX "shop_orders_user_history_idx" ON "shop_orders" ("user_id")',
                "ms": 1500.0,
                "at_ms": 0.2,
                "rows": None,
            },
            {
                "sql": "UPDATE shop_orders SET currency = 'EUR'",
                "ms": 250.0,
                "at_ms": 1500.3,
                "rows": 100_000,
            },
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
            {
                "relation": "public.shop_orders",
                "mode": "RowExclusiveLock",
                "locktype": "relation",
                "granted": True,
                "samples": 10,
                "first_seen_ms": 1510.0,
                "last_seen_ms": 1790.0,
            },
        ],
        size_before=50_000_000,
        size_after=52_500_000,
    )
    for phase, name, timings in (
        ("before", "user_order_history_before.json", [16.0, 17.5, 21.0]),
        ("after", "user_order_history_after.json", [0.04, 0.05, 0.09]),
    ):
        doc = load(name)
        QueryPlan.objects.create(
            run=run,
            pattern_name="user order history",
            sql="SELECT …",
            phase=phase,
            plan=doc,
            execution_ms=timings[1],
            access_path="Seq Scan"
            if phase == "before"
            else "Index Scan using shop_orders_user_history_idx",
            shared_hit_blocks=974 if phase == "before" else 4,
            shared_read_blocks=0,
            repetitions=[
                {"execution_ms": t, "planning_ms": 0.1, "blocks": 1, "plan": doc} for t in timings
            ],
            verdict="Seq Scan → Index Scan, 18 ms → 0.05 ms, buffers 974 → 4"
            if phase == "after"
            else "",
        )
    return run


def test_report_has_durations_locks_rows_size_and_budget_warnings(finished_run: ExplainRun) -> None:
    report = build_report(finished_run)
    (m,) = report.migrations
    assert [s.ms for s in m.statements] == [0.1, 1500.0, 250.0]
    assert m.rows_changed == 100_000 and m.size_change == 2_500_000
    assert [(lk.mode, lk.held_ms) for lk in m.locks] == [
        ("SHARE", 1770.0),
        ("ROW EXCLUSIVE", 280.0),
    ]
    assert m.locks[0].blocks_writes and not m.locks[1].blocks_writes
    # The default budget is 1 s per statement: the CREATE INDEX (1.5 s) is over it.
    assert len(m.warnings) == 1 and "statement 2 ran 1.50 s" in m.warnings[0]
    with override_settings(DBGOV={"STATEMENT_BUDGET_MS": 2000}):
        (m,) = build_report(finished_run).migrations
    assert m.warnings == []
    (q,) = report.queries
    assert (
        q.before_ms == [16.0, 17.5, 21.0] and q.after_spread == "0.05 ms (0.04 ms–0.09 ms, 3 runs)"
    )


def test_markdown_for_a_pull_request_comment(finished_run: ExplainRun) -> None:
    md = render_markdown(build_report(finished_run))
    assert md.startswith("### ✅ dbgov rehearsal of T-021: succeeded")
    assert "`shop_orders` 100,000 rows" in md
    assert "| **user order history** | Seq Scan → Index Scan, 18 ms → 0.05 ms" in md
    assert "| 2 | `CREATE INDEX" in md and "1.50 s ⚠️" in md
    assert "| 3 | `UPDATE shop_orders SET currency = 'EUR'` | 250 ms | 100,000 |" in md
    assert "SHARE                  public.shop_orders (20–1790 ms)" in md
    assert "size +2.4 MB" in md
    assert "<details><summary>Plans</summary>" in md and "-> Seq Scan on shop_orders" in md


def test_show_prints_text_markdown_and_json(finished_run: ExplainRun) -> None:
    out = StringIO()
    with pytest.raises(SystemExit) as code:  # a warning (over budget) needs a human: exit 1
        call_command("dbgov", "explain", "--show", str(finished_run.pk), stdout=out)
    assert code.value.code == 1
    text = out.getvalue()
    assert text.startswith(f"Rehearsal run {finished_run.pk} of T-021")
    assert "lock ████████████████████████ SHARE on public.shop_orders 20–1790 ms" in text
    assert "lock ····················████ ROW EXCLUSIVE on public.shop_orders" in text
    assert "Index Scan using shop_orders_user_history_idx on shop_orders" in text  # the tree
    out = StringIO()
    relaxed = override_settings(DBGOV={"STATEMENT_BUDGET_MS": 2000})  # nothing over: exit 0
    with relaxed:
        call_command(
            "dbgov", "explain", "--show", str(finished_run.pk), "--format", "json", stdout=out
        )
    data: dict[str, Any] = json.loads(out.getvalue())
    assert data["migrations"][0]["locks"][0]["held_ms"] == 1770.0
    assert data["queries"][0]["after_ms"] == [0.04, 0.05, 0.09]
    out = StringIO()
    with relaxed:
        call_command(
            "dbgov", "explain", "--show", str(finished_run.pk), "--format", "markdown", stdout=out
        )
    assert out.getvalue().startswith("### ✅")
    with pytest.raises(CommandError, match="No rehearsal run 999999") as info:
        call_command("dbgov", "explain", "--show", "999999")
    assert info.value.returncode == 2


def test_pg_lock_modes_read_as_sql() -> None:
    assert mode_name("AccessExclusiveLock") == "ACCESS EXCLUSIVE"
    assert mode_name("ShareRowExclusiveLock") == "SHARE ROW EXCLUSIVE"
    assert render_text  # imported for the text format tested through --show
