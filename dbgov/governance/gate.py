"""The one gate ``dbgov check``, the gated ``migrate`` and ``dbgov plan`` share.

It plans the pending migrations, adds the ledger's findings (applied migrations
changed or missing), records the migrations' authors, verifies the signed chains, and
counts only the approvals the re-check accepts. Apps outside ``GOVERNED_APPS`` pass;
a database without dbgov's tables (a fresh install) has nothing to gate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings

from dbgov.analysis import model as am
from dbgov.conf import dbgov_settings
from dbgov.models import Ledger, Task

from . import integrity
from .common import INTEGRITY_RULES
from .fingerprints import Fingerprinter, slot
from .review import ReviewState, states_of

__all__ = [
    "Blocked",
    "GateResult",
    "GateRun",
    "gate",
    "gated_by",
    "governed_apps",
    "is_governed",
    "run_gate",
]


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


def gated_by(plan: am.Plan) -> Any:
    """Whether a finding of ``plan`` is one a reviewer must decide on: it needs review
    and belongs to a pending migration the plan selected, or is an integrity finding
    (an applied migration changed or missing on disk). Findings of migrations already
    applied (``plan --all``) or rendered only as dependencies open no request."""
    pending = {m.label for m in plan.migrations if m.selected and not m.applied}
    known = {m.label for m in plan.migrations}

    def gated(f: am.Finding) -> bool:
        if not f.needs_review:
            return False
        if f.rule_id in INTEGRITY_RULES:
            return True
        label = f.migration_label
        return label not in known or label in pending

    return gated


@dataclass
class Blocked:
    finding: am.Finding
    state: ReviewState

    def as_dict(self) -> dict[str, Any]:
        f = self.finding
        return {
            "rule_id": f.rule_id,
            "severity": str(f.severity),
            "migration": f.migration_label,
            "operation_index": f.operation_index,
            "path": f.path,
            "line": f.line,
            "message": f.message,
            **self.state.as_dict(),
        }


@dataclass
class GateResult:
    """What lacks approvals among the findings a gate looked at."""

    checked: int = 0
    blocked: list[Blocked] = field(default_factory=list)
    passed: list[Blocked] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blocked

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def migrations(self) -> list[str]:
        return sorted({b.finding.migration_label or "-" for b in self.blocked})

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "blocked": [b.as_dict() for b in self.blocked],
            "approved": [b.as_dict() for b in self.passed],
        }


def gate(
    plan: am.Plan,
    *,
    extra_findings: Sequence[am.Finding] = (),
    only: Iterable[str] | None = None,
) -> GateResult:
    """Findings of pending migrations (and ``extra_findings``) that lack approvals.

    ``only`` limits the gate to these migration labels (``migrate`` passes the
    migrations it is about to apply).
    """
    only_set = set(only) if only is not None else None
    gated = gated_by(plan)
    considered: list[am.Finding] = []
    for f in plan.findings:
        if not gated(f):
            continue
        if (
            only_set is not None
            and f.rule_id not in INTEGRITY_RULES
            and f.migration_label not in only_set
        ):
            continue
        considered.append(f)
    considered += [f for f in extra_findings if f.needs_review]
    result = GateResult(checked=len(considered))
    if not considered:
        return result
    fingerprinter = Fingerprinter(plan)
    items = [(fingerprinter(f), slot(f), str(f.severity)) for f in considered]
    states = states_of(items)
    owners = _task_owners(plan)
    for f, (fp, _, _) in zip(considered, items, strict=True):
        entry = Blocked(f, states[fp])
        label = f.migration_label or ""
        if label in owners and entry.state.needed:
            key, owner_id = owners[label]
            st = entry.state
            if owner_id is None:
                # Nobody is excluded by four eyes on a task without owner: none counts.
                st.discounted += [
                    dataclasses.replace(a, discounted=_OWNERLESS) for a in st.approvals
                ]
                st.approvals = []
                st.task_without_owner = key
            else:
                # The owner of the task the migration file names (whatever task the
                # stored request points at) never counts.
                own = [a for a in st.approvals if a.reviewer_id == owner_id]
                st.discounted += [dataclasses.replace(a, discounted=_OWNER) for a in own]
                st.approvals = [a for a in st.approvals if a.reviewer_id != owner_id]
        (result.passed if entry.state.passes else result.blocked).append(entry)
    return result


_OWNERLESS = "the migration's task is unknown or has no owner"
_OWNER = "four eyes: the reviewer owns the task the migration names"


def _task_owners(plan: am.Plan) -> dict[str, tuple[str, int | None]]:
    """Migration label -> (task key its file names, that task's owner id or None)."""
    named = {m.label: m.task for m in plan.migrations if m.task}
    if not named:
        return {}
    owner_of = dict(Task.objects.filter(key__in=set(named.values())).values_list("key", "owner_id"))
    return {label: (key, owner_of.get(key)) for label, key in named.items()}


@dataclass
class GateRun:
    """What one gate run decided: findings lacking approvals, chain violations."""

    database: str
    plan: am.Plan | None
    result: GateResult
    violations: list[integrity.Violation] = field(default_factory=list)
    acknowledged: list[integrity.Violation] = field(default_factory=list)
    ungoverned: list[str] = field(default_factory=list)
    installed: bool = True
    # findings of this plan the baseline accepted (not gated), and the baseline's size
    baseline_accepted: int = 0
    baseline_total: int = 0

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
            "baseline": {"accepted": self.baseline_accepted, "total": self.baseline_total},
        }


def run_gate(
    database: str = "default",
    *,
    only: Iterable[str] | None = None,
    plan: am.Plan | None = None,
    witness: dict[str, Any] | None = None,
) -> GateRun:
    """Gate the pending migrations of ``database`` (``only``: these labels)."""
    from .authors import record_authors
    from .ledger import installed, integrity_findings

    if not installed("default"):
        return GateRun(database, plan, GateResult(), installed=False)
    if plan is None:
        from dbgov.analysis.engine import build_plan

        plan = build_plan(database=database, selection="pending")
    from .baseline import apply_baseline, baseline_size

    accepted = apply_baseline(plan)  # the accepted past is not gated (docs/governance.md)
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
    ledger = [f for f in integrity_findings(database) if is_governed(f.app_label, governed)]
    skip = set(ungoverned)
    kept = [f for f in plan.findings if (f.migration_label or "") not in skip]
    gated_plan = dataclasses.replace(plan, findings=kept)
    result = gate(gated_plan, only=only, extra_findings=ledger)
    violations, acknowledged = integrity.check(using="default", witness=witness)
    if database != "default" and installed(database):  # that database's own ledger
        violations += integrity.verify(using=database, models=[Ledger])
    return GateRun(
        database,
        plan,
        result,
        violations,
        acknowledged,
        ungoverned,
        baseline_accepted=accepted,
        baseline_total=baseline_size(),
    )
