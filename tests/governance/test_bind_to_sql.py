"""Approvals bind to what runs: the SQL a migration renders, not only its .py file; the
ledger records every app's migrations from the executor, model-less apps included."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from dbgov.analysis.engine import build_plan
from dbgov.governance import integrity, services
from dbgov.models import AuditEvent, Ledger, Task

pytestmark = pytest.mark.django_db

MIGRATION = """from pathlib import Path

from django.db import migrations

# The SQL lives beside the migration: approvals must bind to it too.
SQL = Path(__file__).with_suffix(".sql").read_text()


class Migration(migrations.Migration):
    dbgov_task = "T-077"
    operations = [migrations.RunSQL(SQL, "DROP INDEX g2notes_orders_status;")]
"""


@pytest.fixture
def notes_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An app without models.py whose only migration reads a .sql file beside it."""
    pkg = tmp_path / "g2notes"
    (pkg / "migrations").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "migrations" / "__init__.py").write_text("")
    (pkg / "migrations" / "0001_initial.sql").write_text(
        "CREATE INDEX g2notes_orders_status ON shop_orders (status);"
    )
    (pkg / "migrations" / "0001_initial.py").write_text(MIGRATION)
    monkeypatch.syspath_prepend(str(tmp_path))
    forget_notes()
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "g2notes"]):
        yield pkg / "migrations"
    forget_notes()


def forget_notes() -> None:
    """Each ``manage.py`` run imports the migration afresh; so does each step here."""
    for name in [m for m in sys.modules if m == "g2notes" or m.startswith("g2notes.")]:
        del sys.modules[name]


def plan_notes() -> Any:
    forget_notes()
    return build_plan(database="default", selection="pending", targets=[("g2notes", None)])


def test_external_sql_changed_after_approval_makes_the_approval_stale(
    notes_app: Path, users: dict[str, Any]
) -> None:
    Task.objects.create(key="T-077", title="notes", owner=users["dev"])
    plan = plan_notes()
    assert any(f.needs_review for f in plan.findings)
    services.save_plan(plan)
    for fp in {services.fingerprints([f], plan=plan)[0] for f in plan.findings if f.needs_review}:
        services.approve(fp, user=users["dba"], reason="reviewed the SQL")
    assert services.gate(plan).ok
    # retarget the SQL; the .py file is byte for byte the same
    (notes_app / "0001_initial.sql").write_text(
        "CREATE INDEX g2notes_orders_status ON shop_orders (created_at);"
    )
    changed = plan_notes()
    assert changed.migrations[0].sha256 == plan.migrations[0].sha256
    result = services.gate(changed)
    assert not result.ok
    assert any(b.state.stale for b in result.blocked)


def test_model_less_app_is_in_the_ledger_and_edits_are_flagged(notes_app: Path) -> None:
    out = StringIO()
    call_command("migrate", "g2notes", verbosity=1, stdout=out)
    assert "Applying g2notes.0001_initial... OK" in out.getvalue()
    (entry,) = Ledger.objects.filter(app_label="g2notes", name="0001_initial")
    assert entry.action == "applied" and entry.digest and integrity.verify() == []
    assert services.integrity_findings("default") == []
    with (notes_app / "0001_initial.py").open("a") as f:
        f.write("# edited after it was applied\n")
    (finding,) = [f for f in services.integrity_findings("default") if f.app_label == "g2notes"]
    assert finding.rule_id == "applied-migration-changed"


def test_gated_migrate_records_the_rendered_sql_and_later_sql_changes_are_flagged(
    notes_app: Path,
) -> None:
    with override_settings(DBGOV={**settings.DBGOV, "ENFORCE_ON_MIGRATE": True}):
        call_command("migrate", "g2notes", verbosity=0)  # not a governed app: passes
    assert AuditEvent.objects.filter(
        action="migrate.ungoverned", data__migrations=["g2notes.0001_initial"]
    ).exists()
    (entry,) = Ledger.objects.filter(app_label="g2notes", name="0001_initial")
    assert len(entry.sql_sha256) == 64
    forget_notes()
    all_plan = build_plan(database="default", selection="all", targets=[("g2notes", None)])
    (applied,) = [m for m in all_plan.migrations if m.app_label == "g2notes"]
    assert applied.sql_sha256 == entry.sql_sha256
    assert services.integrity_findings("default", all_plan) == []
    # the .py file stays, the SQL it reads changes after it was applied
    (notes_app / "0001_initial.sql").write_text("CREATE INDEX g2notes_x ON shop_orders (id);")
    forget_notes()
    all_plan = build_plan(database="default", selection="all", targets=[("g2notes", None)])
    (finding,) = services.integrity_findings("default", all_plan)
    assert finding.rule_id == "applied-migration-changed"
    assert "something it reads" in finding.message
