"""Risk in the target's own rows and seconds: the same AlterField is info on an empty
table and never-without-a-plan on a 10M-row one; estimates in every output format.

The row counts are real: rows generated on the target and ANALYZE run, so the plan
reads the statistics PostgreSQL itself keeps (pg_class), through the same code path a
production plan uses.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import psycopg
import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

import dbgov
from dbgov.analysis.engine import build_plan
from dbgov.analysis.model import LockLevel, Plan, Severity, Statement
from dbgov.analysis.report import render_text, to_json, to_sarif
from dbgov.analysis.risk import DEFAULT_RATES, Estimate, describe, read_statistics
from dbgov.analysis.risk.estimates import estimate_statement
from dbgov.analysis.risk.regrade import graded
from dbgov.analysis.rules import all_rules
from dbgov.analysis.sql import analyse_statement

pytestmark = pytest.mark.django_db(transaction=True)

PLAN_SCHEMA = json.loads((Path(dbgov.__file__).parent / "schemas" / "plan.schema.json").read_text())


def _target(alias: str) -> psycopg.Connection:
    s = connections[alias].settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or "postgres",
        dbname=s["NAME"],
        autocommit=True,
    )


@pytest.fixture
def ledger_db(scratch_db, shop_migrations):
    """shop.0001 (table shop_ledger) applied; 0002 (type change + index) pending."""
    shop_migrations("sized")
    call_command("migrate", "shop", "0001", database=scratch_db, verbosity=0)
    return scratch_db


def _finding(plan: Plan, rule: str):
    (found,) = [f for f in plan.findings if f.rule_id == rule]
    return found


def test_without_statistics_the_rule_keeps_its_severity_and_says_unknown(ledger_db):
    plan = build_plan(database=ledger_db)  # shop_ledger was never analyzed: reltuples -1
    finding = _finding(plan, "alter-column-type")
    assert finding.severity == Severity.CARE  # the rule's own
    assert finding.estimate is not None and finding.estimate.seconds is None
    assert "size unknown" in finding.message
    assert to_json(plan)["findings"][0]["estimate"] is not None


def test_same_type_change_info_on_an_empty_table_plan_on_ten_million_rows(ledger_db):
    with _target(ledger_db) as conn:
        conn.execute("ANALYZE shop_ledger")
    empty = build_plan(database=ledger_db)
    small = _finding(empty, "alter-column-type")
    assert small.severity == Severity.INFO
    assert "shop_ledger (0 rows" in small.message
    assert not _finding(empty, "create-index-not-concurrently").needs_review

    with _target(ledger_db) as conn:
        conn.execute(
            "INSERT INTO shop_ledger (amount) SELECT g FROM generate_series(1, 10000000) g"
        )
        conn.execute("ANALYZE shop_ledger")
    big_plan = build_plan(database=ledger_db)
    big = _finding(big_plan, "alter-column-type")
    assert big.severity == Severity.PLAN
    assert big.estimate is not None and big.estimate.rows is not None
    assert 9_000_000 < big.estimate.rows < 11_000_000
    assert big.estimate.bytes and big.estimate.bytes > 300 * 1024 * 1024  # heap + pkey
    assert big.estimate.seconds and big.estimate.seconds > 1
    assert "rewrites shop_ledger (10M rows" in big.message
    assert "under ACCESS EXCLUSIVE: about" in big.message
    assert "during which every read and write waits" in big.message
    index = _finding(big_plan, "create-index-not-concurrently")
    assert index.severity == Severity.CARE  # SHARE: ~7 s of blocked writes
    assert "during which every write waits" in index.message
    # atomic: the rewrite's ACCESS EXCLUSIVE stays held through the index build
    assert index.estimate is not None and index.estimate.seconds
    assert big.estimate.held_s == pytest.approx(big.estimate.seconds + index.estimate.seconds)
    assert "until the migration commits" in big.message
    # the same fingerprint: approvals follow the file, the severity follows the size
    assert big.rule_id == small.rule_id and big.operation_index == small.operation_index

    # every output format carries rows, size and the estimate
    doc = to_json(big_plan)
    jsonschema.validate(doc, PLAN_SCHEMA)
    (op,) = [o for m in doc["migrations"] for o in m["operations"] if o["type"] == "AlterField"]
    estimates = [s["estimate"] for s in op["statements"] if s["estimate"]]
    assert estimates and estimates[0]["rows"] == big.estimate.rows
    assert estimates[0]["kind"] == "rewrite" and estimates[0]["seconds"] > 1
    finding_doc = next(f for f in doc["findings"] if f["rule_id"] == "alter-column-type")
    assert finding_doc["severity"] == "never-without-a-plan"
    assert finding_doc["estimate"]["bytes"] == big.estimate.bytes
    sarif = to_sarif(big_plan, all_rules())
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "alter-column-type")
    assert result["level"] == "error"
    assert result["properties"]["estimate"]["rows"] == big.estimate.rows
    assert "10M rows" in result["message"]["text"]
    text = render_text(big_plan)
    assert "estimate: rewrites shop_ledger (10M rows" in text
    assert "estimate: indexes shop_ledger (10M rows" in text

    # a statement that only locks the live table gets its rows and size, no duration
    with _target(ledger_db) as conn:
        statistics = read_statistics(conn)
    sql = 'ALTER TABLE "shop_ledger" ADD COLUMN "note" text NULL'
    only_locks = estimate_statement(
        Statement(sql=sql, facts=analyse_statement(sql)), statistics, DEFAULT_RATES
    )
    assert only_locks is not None and only_locks.kind == "lock"
    assert only_locks.seconds is None and only_locks.rows == big.estimate.rows
    assert describe(only_locks).startswith("takes ACCESS EXCLUSIVE on shop_ledger (10M rows")

    # the admin's review page of the stored plan
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from dbgov.governance import services

    stored = services.save_plan(big_plan)
    client = Client()
    client.force_login(User.objects.create_superuser("risk-admin", "r@example.com", "x"))
    page = client.get(reverse("admin:dbgov_plan_review", args=[stored.pk])).content.decode()
    assert "estimate: rewrites shop_ledger (10M rows" in page
    assert "estimate: indexes shop_ledger (10M rows" in page

    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("dbgov", "plan", "--no-save", "--database", ledger_db, stdout=out)
    assert exited.value.code == 1  # needs review
    assert "never-without-a-plan alter-column-type" in out.getvalue()


def test_thresholds_are_settings_per_lock_class():
    e = Estimate("t", "rewrite", LockLevel.ACCESS_EXCLUSIVE, 1000, 10**6, 0.5)
    assert graded(e, Severity.CARE, {}) == Severity.CARE  # 500 ms: between 100 and 1000
    relaxed = {"blocks-reads": {"requires-care": 600}}
    assert graded(e, Severity.CARE, relaxed) == Severity.INFO
    concurrent = Estimate("t", "index", LockLevel.SHARE_UPDATE_EXCLUSIVE, 1000, 10**6, 600.0)
    assert graded(concurrent, Severity.INFO, {}) == Severity.INFO  # blocks nobody
    unknown = Estimate("t", "rewrite", LockLevel.ACCESS_EXCLUSIVE, None, None, None)
    assert graded(unknown, Severity.CARE, {}) == Severity.CARE
    assert "size unknown" in describe(unknown)


def test_regrading_can_be_turned_off(ledger_db):
    from django.conf import settings

    with _target(ledger_db) as conn:
        conn.execute("ANALYZE shop_ledger")
    with override_settings(DBGOV={**settings.DBGOV, "RISK_REGRADE": False}):
        plan = build_plan(database=ledger_db)
    finding = _finding(plan, "alter-column-type")
    assert finding.severity == Severity.CARE
    assert plan.migrations[-1].operations[0].statements[0].estimate is not None


def test_a_medium_table_needs_care_and_the_review_page_shows_it_in_a_browser(
    ledger_db, live_server, page, screenshot_dir
):
    """200K rows: the rewrite takes some hundred ms under ACCESS EXCLUSIVE (requires-care
    between 100 ms and 1 s); a DBA sees rows, size and the estimate on the review page."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from dbgov.governance import services

    with _target(ledger_db) as conn:
        conn.execute("INSERT INTO shop_ledger (amount) SELECT g FROM generate_series(1, 200000) g")
        conn.execute("ANALYZE shop_ledger")
    plan = build_plan(database=ledger_db)
    medium = _finding(plan, "alter-column-type")
    assert medium.estimate is not None and medium.estimate.seconds is not None
    assert 0.1 <= medium.estimate.seconds < 1.0
    assert medium.severity == Severity.CARE
    assert "rewrites shop_ledger (200K rows" in medium.message

    stored = services.save_plan(plan)
    client = Client()
    client.force_login(User.objects.create_superuser("risk-dba", "d@example.com", "x"))
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}{reverse('admin:dbgov_plan_review', args=[stored.pk])}")
    estimates = page.locator(".dbgov-estimate")
    texts = [estimates.nth(i).inner_text() for i in range(estimates.count())]
    assert any(t.startswith("estimate: rewrites shop_ledger (200K rows") for t in texts), texts
    assert any("indexes shop_ledger (200K rows" in t for t in texts), texts
    assert estimates.first.is_visible()
    page.screenshot(path=screenshot_dir / "risk_review.png", full_page=True)


def test_the_throughput_line_is_fitted_from_running_sums():
    from dbgov.analysis.risk.estimates import RateSums, fit_rate

    sums = RateSums()
    for work in (1e5, 1e6, 1e7):  # 20 ms overhead + 2M units/s
        sums.add(work, 0.02 + work / 2e6)
    rate = fit_rate("index", sums, source="test")
    assert rate is not None
    assert rate.per_s == pytest.approx(2e6) and rate.overhead_s == pytest.approx(0.02)
    assert rate.seconds(4e6) == pytest.approx(2.02)

    one = RateSums()
    one.add(1e6, 0.5)
    single = fit_rate("index", one, source="test")
    assert single is not None and (single.per_s, single.overhead_s) == (2e6, 0.0)
    assert fit_rate("index", RateSums(), source="test") is None
