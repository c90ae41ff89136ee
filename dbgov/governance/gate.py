"""The one gate ``dbgov check``, the gated ``migrate`` and ``dbgov plan`` share.

It plans the pending migrations, adds the ledger's findings (applied migrations
changed or missing), records the migrations' authors, verifies the signed chains, and
counts only the approvals the re-check accepts. Apps outside ``GOVERNED_APPS`` pass;
a database without dbgov's tables (a fresh install) has nothing to gate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings

from dbgov.analysis import model as am
from dbgov.conf import dbgov_settings

from . import integrity

__all__ = ["GateRun", "governed_apps", "is_governed", "run_gate"]


def governed_apps() -> set[str]:
    """``DBGOV["GOVERNED_APPS"]``, or the project's own apps: those whose code lives
    under BASE_DIR, not in an installed package, not Django's contrib, not dbgov."""
    configured = dbgov_settings.GOVERNED_APPS
    if configured is not None:
        return set(configured)
    base = Path(getattr(settings, "BASE_DIR", Path.cwd())).resolve()
    out = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if config.name.startswith(("django.", "dbgov")) or config.label == "dbgov":
            continue
        if "site-packages" in path.parts or "dist-packages" in path.parts:
            continue
        if path.is_relative_to(base):
            out.add(config.label)
    return out


def is_governed(app_label: str | None, governed: set[str] | None = None) -> bool:
    if not app_label:
        return True
    return app_label in (governed if governed is not None else governed_apps())


@dataclass
class GateRun:
    """What one gate run decided: findings lacking approvals, chain violations."""

    database: str
    plan: am.Plan | None
    result: Any  # services.GateResult
    violations: list[integrity.Violation] = field(default_factory=list)
    acknowledged: list[integrity.Violation] = field(default_factory=list)
    ungoverned: list[str] = field(default_factory=list)
    installed: bool = True

    @property
    def ok(self) -> bool:
        return bool(self.result.ok) and not self.violations

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def pending(self) -> list[str]:
        if self.plan is None:
            return []
        return [m.label for m in self.plan.selected if not m.applied]

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "pending": self.pending,
            **self.result.as_dict(),
            "ok": self.ok,
            "integrity": [v.as_dict() for v in self.violations],
            "acknowledged": [v.as_dict() for v in self.acknowledged],
            "ungoverned": self.ungoverned,
        }


def run_gate(
    database: str = "default",
    *,
    only: Iterable[str] | None = None,
    plan: am.Plan | None = None,
    witness: dict[str, Any] | None = None,
) -> GateRun:
    """Gate the pending migrations of ``database`` (``only``: these labels)."""
    from . import services
    from .authors import record_authors

    if not services.installed("default"):
        return GateRun(database, plan, services.GateResult(), installed=False)
    if plan is None:
        from dbgov.analysis.engine import build_plan

        plan = build_plan(database=database, selection="pending")
    governed = governed_apps()
    ungoverned = sorted(
        {m.label for m in plan.migrations if m.selected and not m.applied}
        - {m.label for m in plan.migrations if is_governed(m.app_label, governed)}
    )
    if only is not None:
        only = [label for label in only if is_governed(label.split(".", 1)[0], governed)]
    record_authors(
        (m.app_label, m.name, m.path)
        for m in plan.migrations
        if m.selected and not m.applied and is_governed(m.app_label, governed)
    )
    ledger = [
        f for f in services.integrity_findings(database) if is_governed(f.app_label, governed)
    ]
    skip = set(ungoverned)
    kept = [f for f in plan.findings if (f.migration_label or "") not in skip]
    gated_plan = dataclasses.replace(plan, findings=kept)
    result = services.gate(gated_plan, only=only, extra_findings=ledger)
    violations, acknowledged = integrity.check(using="default", witness=witness)
    return GateRun(database, plan, result, violations, acknowledged, ungoverned)
