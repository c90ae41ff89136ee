"""Storing plans: a plan, its migrations, operations and findings; one approval request
per finding that needs review."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from dbgov.analysis import model as am
from dbgov.analysis.report import estimate_json
from dbgov.models import (
    ApprovalRequest,
    PlanMigration,
    PlanOperation,
    StoredFinding,
    StoredPlan,
    Task,
)
from dbgov.models.tasks import TASK_KEY_PATTERN

from .audit import audit
from .common import AnyUser
from .fingerprints import Fingerprinter, slot
from .gate import gated_by
from .review import computed_status, set_status
from .tasks import refresh_task_statuses


def _content_hash(plan: am.Plan, fingerprints: list[str]) -> str:
    doc = {
        "database": plan.database,
        "selection": plan.selection,
        "task": plan.task,
        "migrations": [
            [m.app_label, m.name, m.sha256, m.selected, m.applied, m.task, m.error]
            for m in plan.migrations
        ],
        "findings": [
            # the message carries the size estimate (docs/risk.md): a table that grew
            # gives a new plan
            [fp, f.severity, f.statement_index, f.suppressed, f.sql, f.message]
            for fp, f in zip(fingerprints, plan.findings, strict=True)
        ],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _tasks_for(keys: Iterable[str], labels: dict[str, str]) -> dict[str, Task]:
    """Tasks by key; keys named by migration files but unknown here are created."""
    import re

    wanted = {k for k in keys if k and re.match(TASK_KEY_PATTERN, k)}
    tasks = {t.key: t for t in Task.objects.filter(key__in=wanted)}
    for key in sorted(wanted - set(tasks)):
        tasks[key], _ = Task.objects.get_or_create(
            key=key, defaults={"title": f"(named by {labels.get(key, 'a migration')})"}
        )
    return tasks


def _statement_doc(s: am.Statement) -> dict[str, Any]:
    facts = s.facts
    return {
        "sql": s.sql,
        "kind": facts.kind if facts else "",
        "lock": str(facts.lock) if facts and facts.lock else "",
        "rewrites": bool(facts and facts.rewrites),
        "scans": bool(facts and facts.scans),
        "tables": list(facts.tables) if facts else [],
        "deferred": s.deferred,
        "new_table": s.new_table,
        "parse_error": facts.parse_error if facts else None,
        # Per table (the review page shows each): which lock, rewrite, scan.
        "locks": [
            {"table": t.table, "lock": str(t.lock), "rewrites": t.rewrites, "scans": t.scans}
            for t in (facts.locks if facts else ())
        ],
        # False for statements PostgreSQL refuses inside a transaction block.
        "transactional": bool(facts.transactional) if facts else True,
        # Rows, size and time under its lock on the target (docs/risk.md).
        "estimate": estimate_json(s.estimate),
    }


def _strongest(locks: Iterable[str]) -> str:
    levels = [am.LockLevel(lk) for lk in locks if lk]
    return str(max(levels, key=lambda lk: lk.rank)) if levels else ""


def save_plan(
    plan: am.Plan, *, author: AnyUser | None = None, code_revision: str | None = None
) -> StoredPlan:
    """Store a plan with its findings and open an approval request per finding to review.

    One transaction; idempotent per content (the same migrations and findings give
    back the stored plan). Requests of earlier contents of the same migrations become
    stale; a request whose exact content comes back is revived.
    """
    fingerprinter = Fingerprinter(plan)
    fingerprints = [fingerprinter(f) for f in plan.findings]
    content_hash = _content_hash(plan, fingerprints)
    author_obj = author if author is not None and getattr(author, "pk", None) else None
    with transaction.atomic():
        stored = StoredPlan.objects.filter(content_hash=content_hash).first()
        created = stored is None
        if stored is None:
            try:
                with transaction.atomic():
                    stored = _create_plan(
                        plan, fingerprints, content_hash, author_obj, code_revision
                    )
            except IntegrityError:  # stored concurrently by an identical run
                stored = StoredPlan.objects.get(content_hash=content_hash)
                created = False
        _sync_requests(plan, fingerprints, stored, author_obj)
        if created:
            audit(
                "plan.saved",
                actor=author,
                subject=f"plan #{stored.pk}",
                data={
                    "database": plan.database,
                    "migrations": stored.migration_count,
                    "findings": stored.finding_count,
                    "needs_review": stored.review_count,
                    "code_revision": code_revision or "",
                },
            )
        refresh_task_statuses({m.task for m in plan.migrations if m.task})
    return stored


def _create_plan(
    plan: am.Plan,
    fingerprints: list[str],
    content_hash: str,
    author: Any,
    code_revision: str | None,
) -> StoredPlan:
    labels = {m.task: m.label for m in plan.migrations if m.task}
    tasks = _tasks_for(labels, labels)
    stored = StoredPlan.objects.create(
        database=plan.database,
        selection=plan.selection,
        task_key=plan.task or "",
        code_revision=(code_revision or "")[:100],
        server_version=plan.server_version,
        duration_s=plan.duration_s,
        content_hash=content_hash,
        author=author,
        migration_count=len(plan.migrations),
        finding_count=len(plan.findings),
        review_count=sum(1 for f in plan.findings if f.needs_review),
    )
    migs = PlanMigration.objects.bulk_create(
        PlanMigration(
            plan=stored,
            position=i,
            app_label=m.app_label,
            name=m.name,
            path=m.path or "",
            task=tasks.get(m.task or ""),
            task_key=m.task or "",
            sha256=m.sha256 or "",
            atomic=m.atomic,
            selected=m.selected,
            applied=m.applied,
            error=m.error or "",
            phase=m.phase,
        )
        for i, m in enumerate(plan.migrations)
    )
    mig_by_key = {(pm.app_label, pm.name): pm for pm in migs}
    ops: list[PlanOperation] = []
    for pm, m in zip(migs, plan.migrations, strict=True):
        for op in m.operations:
            docs = [_statement_doc(s) for s in op.statements]
            ops.append(
                PlanOperation(
                    plan=stored,
                    migration=pm,
                    position=len(ops),
                    index=op.index,
                    type=op.type,
                    description=op.description,
                    line=op.line,
                    statements=docs,
                    lock=_strongest(d["lock"] for d in docs),
                    rewrites=any(d["rewrites"] for d in docs),
                    scans=any(d["scans"] for d in docs),
                    renders_sql=op.renders_sql,
                    reversible=op.reversible,
                    error=op.error or "",
                )
            )
    PlanOperation.objects.bulk_create(ops, batch_size=1000)
    op_by_key = {(o.migration.app_label, o.migration.name, o.index): o for o in ops}
    task_by_label = {m.key: m.task or "" for m in plan.migrations}
    StoredFinding.objects.bulk_create(
        (
            StoredFinding(
                plan=stored,
                plan_migration=mig_by_key.get((f.app_label or "", f.migration or "")),
                operation=op_by_key.get((f.app_label or "", f.migration or "", f.operation_index))
                if f.operation_index is not None
                else None,
                fingerprint=fp,
                slot=slot(f),
                rule_id=f.rule_id,
                severity=str(f.severity),
                severity_rank=f.severity.rank,
                message=f.message,
                safe_alternative=f.safe_alternative,
                app_label=f.app_label or "",
                migration_name=f.migration or "",
                task_key=task_by_label.get((f.app_label or "", f.migration or ""), ""),
                operation_index=f.operation_index,
                statement_index=f.statement_index,
                path=f.path or "",
                line=f.line,
                table=f.table or "",
                lock=str(f.lock) if f.lock else "",
                rewrites=f.rewrites,
                scans=f.scans,
                sql=f.sql or "",
                suppressed=f.suppressed or "",
                needs_review=f.needs_review,
            )
            for fp, f in zip(fingerprints, plan.findings, strict=True)
        ),
        batch_size=1000,
    )
    return stored


def _sync_requests(plan: am.Plan, fingerprints: list[str], stored: StoredPlan, author: Any) -> None:
    gated = gated_by(plan)
    review = {fp: f for fp, f in zip(fingerprints, plan.findings, strict=True) if gated(f)}
    existing = {
        r.fingerprint: r
        for r in ApprovalRequest.objects.select_for_update().filter(fingerprint__in=list(review))
    }
    labels = {m.task: m.label for m in plan.migrations if m.task}
    task_by_label = {m.key: m.task for m in plan.migrations if m.task}
    tasks = _tasks_for(labels, labels)
    new = []
    for fp, f in review.items():
        if fp in existing:
            continue
        task_key = task_by_label.get((f.app_label or "", f.migration or ""))
        new.append(
            ApprovalRequest(
                fingerprint=fp,
                slot=slot(f),
                rule_id=f.rule_id,
                severity=str(f.severity),
                severity_rank=f.severity.rank,
                message=f.message,
                safe_alternative=f.safe_alternative,
                app_label=f.app_label or "",
                migration_name=f.migration or "",
                operation_index=f.operation_index,
                path=f.path or "",
                line=f.line,
                lock=str(f.lock) if f.lock else "",
                rewrites=f.rewrites,
                scans=f.scans,
                sql=f.sql or "",
                task=tasks.get(task_key or ""),
                plan=stored,
                requested_by=author,
            )
        )
    ApprovalRequest.objects.bulk_create(new, batch_size=1000)
    # The same content came back after an edit: its earlier decisions count again.
    for r in existing.values():
        if r.status == ApprovalRequest.Status.STALE:
            set_status(r, computed_status(r))
    # Requests of these migrations whose content is no longer on disk are stale.
    # (only migrations the plan selected: a dependency rendered along carries no findings)
    covered = {(m.app_label, m.name) for m in plan.migrations if m.sha256 and m.selected}
    if covered:
        candidates = (
            ApprovalRequest.objects.filter(migration_name__in={name for _, name in covered})
            .exclude(status=ApprovalRequest.Status.STALE)
            .exclude(fingerprint__in=list(review))
        )
        for r in candidates:
            if (r.app_label, r.migration_name) in covered:
                set_status(r, ApprovalRequest.Status.STALE)
                audit("request.stale", subject=str(r), data={"fingerprint": r.fingerprint})
