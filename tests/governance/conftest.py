"""Fixtures of the governance tests.

Until the plan engine lands, plans are built as the analysis would return them:
the real shop migration files (their real sha256) with findings of the kinds the
rules produce. The storage layer takes a Plan, so this is what it sees in production.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from dbgov.analysis import model as am

SHOP = Path(settings.BASE_DIR) / "project" / "shop" / "migrations"


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def migration(
    name: str, task: str | None, ops: int = 1, *, path: Path | None = None, applied: bool = False
) -> am.Migration:
    path = path or SHOP / f"{name}.py"
    return am.Migration(
        app_label="shop",
        name=name,
        path=str(path.relative_to(settings.BASE_DIR))
        if path.is_relative_to(settings.BASE_DIR)
        else str(path),
        task=task,
        atomic=True,
        sha256=file_sha(path),
        applied=applied,
        operations=[
            am.Operation(
                index=i,
                type="AlterField",
                description=f"operation {i}",
                line=10 + i,
                statements=[
                    am.Statement(
                        sql=f'ALTER TABLE "shop_orders" ALTER COLUMN "c{i}" SET NOT NULL;',
                        facts=am.StatementFacts(
                            sql="",
                            node="AlterTableStmt",
                            kind="ALTER TABLE",
                            tables=("shop_orders",),
                            locks=(
                                am.TableLock(
                                    "shop_orders", am.LockLevel.ACCESS_EXCLUSIVE, scans=True
                                ),
                            ),
                        ),
                    )
                ],
            )
            for i in range(ops)
        ],
    )


def finding(
    m: am.Migration,
    op: int,
    rule: str = "set-not-null",
    severity: am.Severity = am.Severity.CARE,
    **kw: Any,
) -> am.Finding:
    return am.Finding(
        rule_id=rule,
        severity=severity,
        message=kw.pop("message", f"{rule} on operation {op}"),
        safe_alternative=kw.pop(
            "safe_alternative", "Add a CHECK NOT VALID, validate, then SET NOT NULL."
        ),
        app_label=m.app_label,
        migration=m.name,
        operation_index=op,
        path=m.path,
        line=10 + op,
        lock=am.LockLevel.ACCESS_EXCLUSIVE,
        scans=True,
        sql=m.operations[op].statements[0].sql if op < len(m.operations) else None,
        **kw,
    )


def build_plan(*migs: am.Migration, findings: list[am.Finding]) -> am.Plan:
    return am.Plan(
        database="default", server_version=150000, migrations=list(migs), findings=findings
    )


@pytest.fixture
def shop_pending(db: Any) -> None:
    """The shop migrations after 0001 count as pending (recorder rows; rolled back)."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    for name, _ in sorted(recorder.applied_migrations()):
        if name == "shop" and _ != "0001_products":
            recorder.record_unapplied("shop", _)


@pytest.fixture
def t021_plan(shop_pending: None) -> am.Plan:
    """T-021's migration with its CASCADE finding, T-036's rename (needs 2 approvals)."""
    m21 = migration("0002_orders", "T-021", ops=2)
    m36 = migration("0005_rename_order_total", "T-036", ops=1)
    return build_plan(
        m21,
        m36,
        findings=[
            finding(m21, 1, "fk-cascade", am.Severity.CARE),
            finding(m21, 0, "table-name", am.Severity.WARNING),
            finding(m36, 0, "rename-column", am.Severity.PLAN),
        ],
    )


@pytest.fixture
def users(db: Any) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from dbgov.governance.roles import ensure_dba_group

    group = ensure_dba_group()
    out = {}
    for name in ("dba", "dba2", "dev", "dbaowner"):
        u = User.objects.create_user(name, password="pw", is_staff=True)
        if name.startswith("dba"):
            u.groups.add(group)
        else:  # a developer reads plans and the queue, decides nothing
            u.user_permissions.add(*group.permissions.exclude(codename="approve_finding"))
        out[name] = u
    return out


@pytest.fixture
def tasks(users: dict[str, Any]) -> dict[str, Any]:
    from dbgov.models import Task

    return {
        "T-021": Task.objects.create(key="T-021", title="Create orders", owner=users["dev"]),
        "T-036": Task.objects.create(key="T-036", title="Rename total", owner=users["dbaowner"]),
    }
