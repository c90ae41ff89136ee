"""The baseline: accept today's findings on the applied history, gate only what is new.

An existing project adopting dbgov has a history written before its rules: every
applied migration may lack a task, cascade, miss standard columns. ``record_baseline``
plans the whole history (in the sandbox, like ``plan --all``) and stores each finding
of an *applied* migration that needs review as accepted (``BaselineFinding``: audited,
append-only, hash-chained). ``plan`` and ``check`` then drop findings whose fingerprint
is in the baseline (``apply_baseline``) and say how many there are. A fingerprint covers
the migration file's content, so editing an applied migration brings its findings back
(and the ledger's integrity finding with them). Pending migrations are never baselined:
rules apply from the baseline on, never retroactively.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction

from ..analysis import model as am
from ..models import BaselineFinding
from . import services
from .audit import actor_name

__all__ = [
    "BaselineRecord",
    "BaselineStatus",
    "apply_baseline",
    "baseline_status",
    "record_baseline",
    "row_digest",
]

_CHAINED = (
    "fingerprint",
    "database",
    "app_label",
    "migration",
    "operation_index",
    "rule_id",
    "severity",
    "message",
    "batch",
    "recorded_by_name",
    "reason",
)


def row_digest(row: BaselineFinding, prev: str) -> str:
    """sha256 over the row's fields and the previous row's digest (the chain's link).

    The seam for signing: an HMAC with the approvals' key can replace this function."""
    doc = {name: getattr(row, name) for name in _CHAINED}
    payload = json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n" + prev
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class BaselineRecord:
    batch: str
    recorded: int  # new rows
    already: int  # findings already in the baseline
    applied_migrations: int
    total: int  # rows in the baseline now


@dataclass(frozen=True)
class BaselineStatus:
    total: int
    batches: int
    last_recorded: str | None
    chain_ok: bool
    broken_at: int | None  # id of the first row whose digest does not match

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "batches": self.batches,
            "last_recorded": self.last_recorded,
            "chain_ok": self.chain_ok,
            "broken_at": self.broken_at,
        }


def applied_labels(database: str) -> set[str]:
    """``app.name`` of every migration Django recorded as applied on ``database``."""
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections[database])
    return {f"{app}.{name}" for app, name in recorder.applied_migrations()}


def _applied_review_findings(plan: am.Plan, applied: set[str]) -> tuple[list[am.Finding], int]:
    applied = applied & {m.label for m in plan.migrations}
    findings = [
        f
        for f in plan.findings
        if f.needs_review
        and f.migration_label in applied
        and f.rule_id not in services.INTEGRITY_RULES
    ]
    return findings, len(applied)


def record_baseline(
    plan: am.Plan, *, database: str, user: Any = None, reason: str = ""
) -> BaselineRecord:
    """Store the findings of ``plan``'s applied migrations as the baseline (idempotent)."""
    findings, applied = _applied_review_findings(plan, applied_labels(database))
    fingerprints = services.fingerprints(findings, plan=plan)
    batch = secrets.token_hex(8)
    actor = actor_name(user)
    table = BaselineFinding._meta.db_table
    with transaction.atomic():
        # One writer at a time keeps the chain linear (readers are not blocked).
        with connections["default"].cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE')
        known = set(
            BaselineFinding.objects.filter(fingerprint__in=fingerprints).values_list(
                "fingerprint", flat=True
            )
        )
        last = BaselineFinding.objects.order_by("-id").first()
        prev = last.digest if last is not None else ""
        recorded = 0
        for f, fp in zip(findings, fingerprints, strict=True):
            if fp in known:
                continue
            known.add(fp)
            row = BaselineFinding(
                fingerprint=fp,
                database=database,
                app_label=f.app_label or "",
                migration=f.migration or "",
                operation_index=f.operation_index,
                rule_id=f.rule_id,
                severity=str(f.severity),
                message=f.message,
                batch=batch,
                recorded_by=user if user is not None and getattr(user, "pk", None) else None,
                recorded_by_name=actor,
                reason=reason,
                prev_digest=prev,
            )
            row.digest = prev = row_digest(row, prev)
            row.save()
            recorded += 1
        total = BaselineFinding.objects.count()
        services.audit(
            "baseline.recorded",
            actor=user,
            subject=f"baseline on {database}",
            reason=reason,
            data={
                "batch": batch,
                "recorded": recorded,
                "already": len(findings) - recorded,
                "applied_migrations": applied,
                "total": total,
            },
        )
    return BaselineRecord(batch, recorded, len(findings) - recorded, applied, total)


def apply_baseline(plan: am.Plan) -> int:
    """Drop the findings of ``plan`` that the baseline accepted; return how many."""
    if not plan.findings or not BaselineFinding.objects.exists():
        return 0
    fingerprints = services.fingerprints(plan.findings, plan=plan)
    accepted = set(
        BaselineFinding.objects.filter(fingerprint__in=set(fingerprints)).values_list(
            "fingerprint", flat=True
        )
    )
    if not accepted:
        return 0
    kept = [f for f, fp in zip(plan.findings, fingerprints, strict=True) if fp not in accepted]
    dropped = len(plan.findings) - len(kept)
    plan.findings[:] = kept
    return dropped


def baseline_size() -> int:
    return BaselineFinding.objects.count()


def baseline_status() -> BaselineStatus:
    """The baseline's size and whether its hash chain is intact."""
    prev = ""
    broken_at = None
    total = 0
    batches: set[str] = set()
    last = None
    for row in BaselineFinding.objects.order_by("id").iterator():
        total += 1
        batches.add(row.batch)
        last = row.recorded_at
        if broken_at is None and (row.prev_digest != prev or row_digest(row, prev) != row.digest):
            broken_at = row.pk
        prev = row.digest
    return BaselineStatus(
        total=total,
        batches=len(batches),
        last_recorded=last.isoformat() if last is not None else None,
        chain_ok=broken_at is None,
        broken_at=broken_at,
    )
