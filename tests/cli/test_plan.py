"""`manage.py dbgov plan`: the demo's plan, its machine formats and its exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

import dbgov

pytestmark = pytest.mark.django_db

PLAN_SCHEMA = json.loads((Path(dbgov.__file__).parent / "schemas" / "plan.schema.json").read_text())
SARIF_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "analysis" / "schemas" / "sarif-2.1.0.json").read_text()
)


def run_plan(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("dbgov", "plan", "--no-save", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def demo_db(scratch_db):
    """The demo's starting point: shop at 0001_products, T-021 and the hazards pending."""
    call_command("migrate", "shop", "0001_products", database=scratch_db, verbosity=0)
    return scratch_db


def test_demo_plan_flags_each_hazard_with_its_lock_and_rewrite_facts(demo_db):
    code, out, err = run_plan("--database", demo_db, "--format", "json")
    assert code == 1, err  # findings need review
    report = json.loads(out)  # stdout holds the JSON alone
    jsonschema.validate(report, PLAN_SCHEMA)

    migrations = {m["name"]: m for m in report["migrations"]}
    assert list(migrations) == [
        "0002_orders",
        "0003_orders_user_history_index",
        "0004_order_currency",
        "0005_rename_order_total",
        "0006_order_item_quantity_bigint",
        "0007_orders_status_index",
        "0008_remove_product_legacy_code",
        "0009_backfill_order_currency",
        "0010_orders_total_check",
        "0011_order_shipping_address",
    ]
    assert migrations["0002_orders"]["task"] == "T-021"
    assert migrations["0011_order_shipping_address"]["risk"] == "safe"

    findings: dict[str, set[str]] = {}
    for f in report["findings"]:
        findings.setdefault(f["migration"], set()).add(f["rule_id"])
    assert findings == {
        "0002_orders": {"fk-on-delete-cascade", "table-standard-columns"},
        "0004_order_currency": {"add-column-not-null-no-default"},
        "0005_rename_order_total": {"rename"},
        "0006_order_item_quantity_bigint": {"alter-column-type"},
        "0007_orders_status_index": {"create-index-not-concurrently"},
        "0008_remove_product_legacy_code": {"drop-column"},
        "0009_backfill_order_currency": {"runpython-no-reverse", "data-migration"},
        "0010_orders_total_check": {"add-check-validated"},
    }

    def statement(name: str, op: int = 0, index: int = 0) -> dict:
        return migrations[name]["operations"][op]["statements"][index]

    # T-021's own index is on a table T-021 creates: not hot, no finding, still a SHARE lock.
    assert statement("0003_orders_user_history_index")["lock"] == "SHARE"
    assert statement("0003_orders_user_history_index")["new_table"] is True
    assert statement("0004_order_currency")["lock"] == "ACCESS EXCLUSIVE"
    retype = statement("0006_order_item_quantity_bigint")
    assert retype["lock"] == "ACCESS EXCLUSIVE" and retype["rewrites"] is True
    assert statement("0007_orders_status_index")["lock"] == "SHARE"
    check = statement("0010_orders_total_check")
    assert (
        check["lock"] == "ACCESS EXCLUSIVE"
        and check["scans"] is True
        and check["rewrites"] is False
    )
    run_python = migrations["0009_backfill_order_currency"]["operations"][0]
    assert run_python["renders_sql"] is False and run_python["reversible"] is False
    assert all(
        f["path"].startswith("project/shop/migrations/") and f["line"] for f in report["findings"]
    )


def test_sarif_output_is_valid_sarif_pointing_at_files_and_lines(demo_db):
    code, out, _ = run_plan("--database", demo_db, "--format", "sarif")
    assert code == 1
    sarif = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "create-index-not-concurrently" in rule_ids
    result = next(r for r in run["results"] if r["ruleId"] == "create-index-not-concurrently")
    location = result["locations"][0]["physicalLocation"]
    assert (
        location["artifactLocation"]["uri"] == "project/shop/migrations/0007_orders_status_index.py"
    )
    assert location["region"]["startLine"] == 16
    assert rule_ids[result["ruleIndex"]] == "create-index-not-concurrently"


def test_text_report_for_people(demo_db):
    code, out, err = run_plan("--database", demo_db, "--no-color")
    assert code == 1
    assert "\x1b[" not in out
    assert "shop.0007_orders_status_index  task T-037  [requires-care]" in out
    assert (
        'CREATE INDEX "shop_orders_status_created_idx" ON "shop_orders" ("status", "created_at");'
        in out
    )
    assert "SHARE on shop_orders · scans table" in out
    assert "instead: Use `django.contrib.postgres.operations.AddIndexConcurrently`" in out
    assert "10 migration(s)" in err  # progress goes to stderr (rendered or from the cache)


def test_task_filter(demo_db):
    code, out, _ = run_plan("--database", demo_db, "--format", "json", "--task", "T-036")
    report = json.loads(out)
    assert [m["name"] for m in report["migrations"]] == ["0006_order_item_quantity_bigint"]
    assert report["task"] == "T-036" and code == 1


def test_nothing_pending_exits_zero():
    code, out, _ = run_plan("--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["migrations"] == [] and report["summary"]["needs_review"] == 0


def test_errors_exit_2_with_one_message(scratch_db, shop_migrations):
    shop_migrations("broken_import")
    with pytest.raises(CommandError, match=r"0002_broken\.py") as exc:
        run_plan("--database", scratch_db)
    assert exc.value.returncode == 2
    with pytest.raises(CommandError, match="unknown database alias 'nope'") as exc:
        run_plan("--database", "nope")
    assert exc.value.returncode == 2


def test_command_line_error_has_no_traceback():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"}
    done = subprocess.run(
        [sys.executable, "manage.py", "dbgov", "plan", "--database", "nope"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "CommandError: unknown database alias 'nope'"
