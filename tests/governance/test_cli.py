"""The governance subcommands and the gated migrate, end to end through call_command."""

from __future__ import annotations

import json
import shutil
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from dbgov.governance import services
from dbgov.models import Approval, ApprovalRequest, AuditEvent, Ledger, Task

from .conftest import SHOP

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def shop_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shop migrations as an editable copy (MIGRATION_MODULES points at it)."""
    package = tmp_path / "demo_shop_migrations"
    shutil.copytree(SHOP, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("DBGOV_APPROVER_PASSWORD", "pw")  # approve --as proves identity
    with override_settings(MIGRATION_MODULES={"shop": "demo_shop_migrations"}):
        yield package
    for name in [m for m in sys.modules if m.startswith("demo_shop_migrations")]:
        del sys.modules[name]


@pytest.mark.slow  # renders / loads at full size: not in the fast tier
def test_the_whole_loop(shop_copy: Path, users: dict[str, Any]) -> None:
    """plan stores, check fails, a DBA approves, check passes, migrate applies;
    editing the migration makes check fail again."""
    # T-040 and T-041 are pending (their migrations are really unapplied)
    call_command("migrate", "shop", "0009", stdout=StringIO())
    Task.objects.create(key="T-040", title="Total must be positive", owner=users["dbaowner"])

    code, out, _ = run("dbgov", "plan", "--no-sql")
    assert code == 1 and "add-check-validated" in out
    assert ApprovalRequest.objects.filter(rule_id="add-check-validated", status="open").exists()

    code, out, _ = run("dbgov", "check", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and not doc["ok"]
    assert [b["migration"] for b in doc["blocked"]] == ["shop.0010_orders_total_check"]

    with (
        override_settings(DBGOV={"ENFORCE_ON_MIGRATE": True}),
        pytest.raises(CommandError, match="0010_orders_total_check"),
    ):
        call_command("migrate", "shop", stdout=StringIO())

    with pytest.raises(CommandError, match="Four eyes"):
        call_command("dbgov", "approve", "--task", "T-040", "--as", "dbaowner", "--reason", "mine")
    run("dbgov", "approve", "--task", "T-040", "--as", "dba", "--reason", "table is small")
    assert run("dbgov", "check")[0] == 0
    assert Task.objects.get(key="T-040").status == Task.Status.APPROVED

    # editing the approved migration: its approval no longer counts
    target = shop_copy / "0010_orders_total_check.py"
    original = target.read_bytes()
    target.write_bytes(original + b"\n# a late edit\n")
    code, out, _ = run("dbgov", "check")
    assert code == 1 and "stale approval(s) by dba" in out
    target.write_bytes(original)
    assert run("dbgov", "check")[0] == 0

    with override_settings(DBGOV={"ENFORCE_ON_MIGRATE": True}):
        call_command("migrate", "shop", stdout=StringIO())
    assert Ledger.objects.filter(name="0010_orders_total_check", action="applied").exists()
    assert Task.objects.get(key="T-040").status == Task.Status.APPLIED

    # never modify an applied migration
    target.write_bytes(original + b"\n# edited after it was applied\n")
    code, out, _ = run("dbgov", "check", "--format", "json")
    assert code == 1
    assert json.loads(out)["blocked"][0]["rule_id"] == "applied-migration-changed"


def test_migrate_break_glass_is_audited(shop_copy: Path, users: dict[str, Any]) -> None:
    call_command("migrate", "shop", "0009", stdout=StringIO())
    with override_settings(DBGOV={"ENFORCE_ON_MIGRATE": True}):
        with pytest.raises(CommandError, match="needs a reason"):
            call_command("migrate", "shop", "--dbgov-override", " ", stdout=StringIO())
        err = StringIO()
        call_command(
            "migrate", "shop", "--dbgov-override", "hotfix INC-7", stdout=StringIO(), stderr=err
        )
    assert "BREAK GLASS" in err.getvalue()
    event = AuditEvent.objects.get(action="migrate.override")
    assert event.reason == "hotfix INC-7"
    assert "shop.0010_orders_total_check" in event.data["migrations"]


def test_missing_applied_migration_is_reported(shop_copy: Path) -> None:
    (shop_copy / "0011_order_shipping_address.py").unlink()
    findings = services.integrity_findings()
    assert [(f.rule_id, f.migration) for f in findings] == [
        ("applied-migration-missing", "0011_order_shipping_address")
    ]


def test_tasks_create_and_list(users: dict[str, Any]) -> None:
    code, out, _ = run("dbgov", "tasks", "create", "T-050", "Archive old orders", "--owner", "dev")
    assert code == 0 and "T-050" in out
    with pytest.raises(CommandError, match="T- followed by digits"):
        call_command("dbgov", "tasks", "create", "TASK-5", "bad key")
    with pytest.raises(CommandError, match="already exists"):
        call_command("dbgov", "tasks", "create", "T-050", "again")
    code, out, _ = run("dbgov", "tasks", "--format", "json")
    rows = {r["key"]: r for r in json.loads(out)["tasks"]}
    assert rows["T-050"]["owner"] == "dev" and rows["T-050"]["status"] == "draft"


def test_tasks_load_from_fixtures() -> None:
    call_command("loaddata", "dbgov_demo_tasks", stdout=StringIO())
    assert Task.objects.get(key="T-021").title.startswith("Create orders")


def test_makemigrations_writes_the_task_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Task.objects.create(key="T-051", title="New shop schema")
    package = tmp_path / "fresh_shop_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with override_settings(
        MIGRATION_MODULES={"shop": "fresh_shop_migrations"},
        DATABASE_ROUTERS=["tests.governance.test_models.DefaultOnly"],
    ):
        with pytest.raises(CommandError, match="unknown task T-999"):
            call_command("dbgov", "makemigrations", "shop", "--task", "T-999")
        run("dbgov", "makemigrations", "shop", "--task", "T-051", "--name", "initial")
        written = package / "0001_initial.py"
        assert 'dbgov_task = "T-051"' in written.read_text()
        loader = MigrationLoader(None, ignore_no_migrations=True)
        assert loader.disk_migrations[("shop", "0001_initial")].dbgov_task == "T-051"
    for name in [m for m in sys.modules if m.startswith("fresh_shop_migrations")]:
        del sys.modules[name]


def test_roles_subcommand_creates_the_group(users: dict[str, Any]) -> None:
    from django.contrib.auth.models import Group

    Group.objects.filter(name="DBA").delete()
    code, out, _ = run("dbgov", "roles", "--add", "dev")
    assert code == 0
    assert users["dev"].groups.filter(name="DBA").exists()
    assert Group.objects.get(name="DBA").permissions.filter(codename="approve_finding").exists()


def test_check_exits_2_on_a_broken_migration_file(shop_copy: Path) -> None:
    (shop_copy / "0012_broken.py").write_text(
        "from django.db import migrations\nclass Migration(\n"
    )
    with pytest.raises(CommandError, match="0012_broken") as exc:
        call_command("dbgov", "check")
    assert exc.value.returncode == 2


def test_plan_shows_the_approval_state(shop_copy: Path, users: dict[str, Any]) -> None:
    call_command("migrate", "shop", "0009", stdout=StringIO())
    Task.objects.create(key="T-040", title="Total must be positive", owner=users["dev"])
    code, out, _ = run("dbgov", "plan", "--no-sql")
    assert code == 1 and "add-check-validated: 0/1 approvals" in out
    run("dbgov", "approve", "--task", "T-040", "--as", "dba", "--reason", "small table")
    code, out, _ = run("dbgov", "plan", "--no-sql", "--no-save")
    assert "add-check-validated: approved" in out


def test_approve_as_needs_the_users_password(
    t021_plan: Any, users: dict[str, Any], tasks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.save_plan(t021_plan)
    monkeypatch.delenv("DBGOV_APPROVER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="proof of identity") as exc:
        call_command("dbgov", "approve", "--task", "T-021", "--as", "dba", "--reason", "x")
    assert exc.value.returncode == 2
    monkeypatch.setenv("DBGOV_APPROVER_PASSWORD", "guessed")
    with pytest.raises(CommandError, match="wrong password"):
        call_command("dbgov", "approve", "--task", "T-021", "--as", "dba", "--reason", "x")
    assert not Approval.objects.exists()
    monkeypatch.setenv("DBGOV_APPROVER_PASSWORD", "pw")
    code, out, _ = run("dbgov", "approve", "--task", "T-021", "--as", "dba", "--reason", "ok")
    assert code == 0 and "approved" in out


def test_plan_stores_its_requester_who_never_approves(
    shop_copy: Path, users: dict[str, Any]
) -> None:
    call_command("migrate", "shop", "0009", stdout=StringIO())
    Task.objects.create(key="T-040", title="Total must be positive", owner=users["dev"])
    code, _, _ = run("dbgov", "plan", "--no-sql", "--requester", "dba2")
    assert code == 1
    request = ApprovalRequest.objects.get(rule_id="add-check-validated")
    assert request.requested_by == users["dba2"]
    assert request.plan is not None and request.plan.author == users["dba2"]
    with pytest.raises(CommandError, match="Four eyes"):
        call_command("dbgov", "approve", "--task", "T-040", "--as", "dba2", "--reason", "mine")
    with pytest.raises(CommandError, match="unknown user 'nobody'"):
        call_command("dbgov", "plan", "--requester", "nobody", stdout=StringIO())
