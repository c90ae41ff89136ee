"""Governance services: store plans, review findings, gate, keep the migration ledger.

Thin shells (commands, admin views, signal receivers) call these; the database
enforces the invariants (see dbgov.models.governance), these functions explain them.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import Q

from dbgov.analysis import model as am
from dbgov.analysis.report import fingerprint as report_fingerprint
from dbgov.conf import dbgov_settings
from dbgov.models import (
    Approval,
    ApprovalRequest,
    AuditEvent,
    Finding,
    Ledger,
    MigrationAuthor,
    Plan,
    PlanMigration,
    PlanOperation,
    Task,
)
from dbgov.models.tasks import TASK_KEY_PATTERN

from .recheck import APPROVE_PERMISSION, DecisionRecheck

# A user model instance or AnonymousUser (the user model is swappable).
AnyUser = Any

__all__ = [
    "GateResult",
    "GovernanceError",
    "ReviewState",
    "approve",
    "audit",
    "decide",
    "finding_fingerprint",
    "fingerprints",
    "gate",
    "installed",
    "integrity_findings",
    "is_owner",
    "record_ledger",
    "refresh_task_statuses",
    "reject",
    "required_approvals",
    "review_state",
    "revoke",
    "save_plan",
]

RULE_APPLIED_CHANGED = "applied-migration-changed"
RULE_APPLIED_MISSING = "applied-migration-missing"
INTEGRITY_RULES = frozenset({RULE_APPLIED_CHANGED, RULE_APPLIED_MISSING})


class GovernanceError(Exception):
    """A governance action that cannot be done; the message says why, for a human."""


# --------------------------------------------------------------------------- fingerprints


def finding_fingerprint(
    *,
    sha256: str | None,
    app_label: str | None,
    migration: str | None,
    operation_index: int | None,
    rule_id: str,
) -> str:
    """sha256 over (migration file content hash, migration label, operation index, rule).

    The same identity as the ``fingerprint`` of ``dbgov plan --format json``
    (dbgov.analysis.report.fingerprint). Editing the file changes every fingerprint of
    its findings, so earlier approvals no longer apply; the label keeps two identical
    files (e.g. two empty migrations) apart.
    """
    probe = am.Finding(
        rule_id=rule_id,
        severity=am.Severity.INFO,
        message="",
        safe_alternative="",
        app_label=app_label,
        migration=migration,
        operation_index=operation_index,
    )
    return report_fingerprint(probe, sha256)


def _slot(f: am.Finding) -> str:
    op = "-" if f.operation_index is None else str(f.operation_index)
    return f"{f.app_label or ''}.{f.migration or ''}#{op}:{f.rule_id}"


def _file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def migration_file(migration: Any) -> Path | None:
    """The file a loaded Migration instance (or class) was imported from."""
    module = sys.modules.get(getattr(migration, "__module__", ""))
    file = getattr(module, "__file__", None)
    return Path(file) if file else None


def display_path(path: Path | None) -> str:
    """Project-relative path when under BASE_DIR (or the working directory)."""
    if path is None:
        return ""
    for base in (getattr(settings, "BASE_DIR", None), Path.cwd()):
        if base is None:
            continue
        try:
            return str(path.resolve().relative_to(Path(base).resolve()))
        except ValueError:
            continue
    return str(path)


class _Fingerprinter:
    """Fingerprints of analysis findings: the file hash comes from the plan, else disk."""

    def __init__(self, plan: am.Plan | None = None) -> None:
        self.shas: dict[tuple[str, str], str | None] = {}
        if plan is not None:
            self.shas = {m.key: m.content_sha256 for m in plan.migrations}
        self._disk: dict[tuple[str, str], str] | None = None

    def _disk_sha(self, key: tuple[str, str]) -> str | None:
        if self._disk is None:
            from django.db.migrations.loader import MigrationLoader

            loader = MigrationLoader(None, ignore_no_migrations=True)
            self._disk = {}
            for k, mig in loader.disk_migrations.items():
                path = migration_file(mig)
                if path is not None and path.exists():
                    self._disk[k] = _file_sha256(path)
        return self._disk.get(key)

    def __call__(self, f: am.Finding) -> str:
        key = (f.app_label or "", f.migration or "")
        if key in self.shas:
            sha = self.shas[key]
        elif f.rule_id == RULE_APPLIED_MISSING or not f.migration:
            sha = None
        else:
            sha = self._disk_sha(key)
        return finding_fingerprint(
            sha256=sha,
            app_label=f.app_label,
            migration=f.migration,
            operation_index=f.operation_index,
            rule_id=f.rule_id,
        )


# --------------------------------------------------------------------------- approvals


def required_approvals(severity: str | am.Severity) -> int:
    """How many distinct reviewers must approve a finding of this severity."""
    sev = am.Severity(severity)
    if not sev.needs_review:
        return 0
    return int(dbgov_settings.REQUIRED_APPROVALS.get(str(sev), 1))


@dataclass
class DecisionInfo:
    id: int
    decision: str
    reviewer: str
    reason: str
    at: str
    fingerprint: str
    # Why the gate does not count this approval ("" when it counts).
    discounted: str = ""

    @classmethod
    def of(cls, a: Approval, discounted: str = "") -> DecisionInfo:
        return cls(
            id=a.pk,
            decision=a.decision,
            reviewer=a.reviewer.get_username(),
            reason=a.reason,
            at=a.created_at.isoformat(),
            fingerprint=a.fingerprint,
            discounted=discounted,
        )


@dataclass
class ReviewState:
    """The review of one finding content (fingerprint)."""

    fingerprint: str
    needed: int
    request_id: int | None = None
    approvals: list[DecisionInfo] = field(default_factory=list)
    rejections: list[DecisionInfo] = field(default_factory=list)
    # approvals given to earlier contents of the same finding (the file changed since)
    stale: list[DecisionInfo] = field(default_factory=list)
    # approvals the gate re-checked and does not count (forged, no permission, ...)
    discounted: list[DecisionInfo] = field(default_factory=list)
    # the migration names this task, which is unknown or has no owner: nothing counts
    task_without_owner: str = ""

    @property
    def decided(self) -> str | None:
        """ "approved", "rejected", "not-required" or None (still needs approvals)."""
        if self.needed == 0:
            return "not-required"
        if self.rejections:
            return "rejected"
        if len(self.approvals) >= self.needed:
            return "approved"
        return None

    @property
    def passes(self) -> bool:
        return self.decided in ("approved", "not-required")

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "needed": self.needed,
            "approvals": len(self.approvals),
            "stale": len(self.stale),
            "decided": self.decided,
            "request": self.request_id,
            "approved_by": [a.reviewer for a in self.approvals],
            "rejected_by": [a.reviewer for a in self.rejections],
            "stale_approved_by": [a.reviewer for a in self.stale],
            "discounted": [{"reviewer": a.reviewer, "why": a.discounted} for a in self.discounted],
            "task_without_owner": self.task_without_owner,
        }


def _valid_decisions(decisions: Iterable[Approval]) -> list[Approval]:
    """Decisions not withdrawn by a later revocation, one approval per reviewer."""
    decisions = list(decisions)
    revoked = {a.revokes_id for a in decisions if a.decision == Approval.Decision.REVOKED}
    seen: set[tuple[int, str]] = set()
    out = []
    for a in decisions:
        if a.decision == Approval.Decision.REVOKED or a.pk in revoked:
            continue
        key = (a.reviewer_id, a.decision)
        if key in seen:
            continue
        seen.add(key)
        out.append(a)
    return out


def _review_states(
    items: Sequence[tuple[str, str, str]],  # (fingerprint, slot, severity)
) -> dict[str, ReviewState]:
    """Review states of many fingerprints in two queries, whatever their number."""
    states: dict[str, ReviewState] = {}
    slots: dict[str, set[str]] = defaultdict(set)
    for fp, slot, severity in items:
        if fp not in states:
            states[fp] = ReviewState(fingerprint=fp, needed=required_approvals(severity))
        slots[slot].add(fp)
    if not states:
        return states
    requests = (
        ApprovalRequest.objects.filter(Q(fingerprint__in=list(states)) | Q(slot__in=list(slots)))
        .select_related("task")
        .only(
            "id",
            "fingerprint",
            "slot",
            "app_label",
            "migration_name",
            "requested_by_id",
            "task__id",
            "task__owner_id",
        )
    )
    by_request: dict[int, ApprovalRequest] = {r.pk: r for r in requests}
    for r in by_request.values():
        if r.fingerprint in states:
            states[r.fingerprint].request_id = r.pk
    decisions = (
        Approval.objects.filter(request_id__in=list(by_request))
        .select_related("reviewer")
        .order_by("created_at", "id")
    )
    per_request: dict[int, list[Approval]] = defaultdict(list)
    for a in decisions:
        per_request[a.request_id].append(a)
    recheck = DecisionRecheck(by_request.values()) if per_request else None
    for request_id, rows in per_request.items():
        r = by_request[request_id]
        valid = _valid_decisions(rows)
        approved = []
        if r.fingerprint in states:
            st = states[r.fingerprint]
            for a in valid:
                if a.decision == "rejected":
                    st.rejections.append(DecisionInfo.of(a))
                    continue
                why = recheck.why_not(a, r) if recheck else ""
                if why:
                    st.discounted.append(DecisionInfo.of(a, why))
                else:
                    approved.append(a)
                    st.approvals.append(DecisionInfo.of(a))
        else:
            approved = [a for a in valid if a.decision == "approved"]
        for fp in slots.get(r.slot, ()):  # an earlier content of the same finding
            if fp != r.fingerprint:
                states[fp].stale += [DecisionInfo.of(a) for a in approved]
    return states


def fingerprints(findings: Iterable[am.Finding], *, plan: am.Plan | None = None) -> list[str]:
    """Fingerprints of analysis findings (file hashes from ``plan``, else from disk)."""
    fingerprinter = _Fingerprinter(plan)
    return [fingerprinter(f) for f in findings]


def review_state(
    findings: Iterable[Finding | am.Finding | ApprovalRequest], *, plan: am.Plan | None = None
) -> dict[str, ReviewState]:
    """Per finding fingerprint: approvals, approvals needed, stale approvals, decision.

    Accepts stored findings, approval requests, or analysis findings (then the
    migration file hashes come from ``plan``, or from disk).
    """
    fingerprinter: _Fingerprinter | None = None
    items: list[tuple[str, str, str]] = []
    for f in findings:
        if isinstance(f, Finding | ApprovalRequest):
            if isinstance(f, Finding) and not f.needs_review:
                items.append((f.fingerprint, f.slot, "info"))
            else:
                items.append((f.fingerprint, f.slot, f.severity))
        else:
            fingerprinter = fingerprinter or _Fingerprinter(plan)
            severity = str(f.severity) if f.needs_review else "info"
            items.append((fingerprinter(f), _slot(f), severity))
    return _review_states(items)


# --------------------------------------------------------------------------- audit


def _actor_name(user: AnyUser | None) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    try:
        return f"system:{getpass.getuser()}"
    except Exception:  # pragma: no cover - no login name (containers)
        return "system"


def audit(
    action: str,
    *,
    actor: AnyUser | None = None,
    subject: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log."""
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        subject=subject[:400],
        reason=reason,
        data=data or {},
    )


# --------------------------------------------------------------------------- storing plans


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
            [fp, f.severity, f.statement_index, f.suppressed, f.sql]
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
    }


def _strongest(locks: Iterable[str]) -> str:
    levels = [am.LockLevel(lk) for lk in locks if lk]
    return str(max(levels, key=lambda lk: lk.rank)) if levels else ""


def save_plan(
    plan: am.Plan, *, author: AnyUser | None = None, code_revision: str | None = None
) -> Plan:
    """Store a plan with its findings and open an approval request per finding to review.

    One transaction; idempotent per content (the same migrations and findings give
    back the stored plan). Requests of earlier contents of the same migrations become
    stale; a request whose exact content comes back is revived.
    """
    fingerprinter = _Fingerprinter(plan)
    fingerprints = [fingerprinter(f) for f in plan.findings]
    content_hash = _content_hash(plan, fingerprints)
    author_obj = author if author is not None and getattr(author, "pk", None) else None
    with transaction.atomic():
        stored = Plan.objects.filter(content_hash=content_hash).first()
        created = stored is None
        if stored is None:
            try:
                with transaction.atomic():
                    stored = _create_plan(
                        plan, fingerprints, content_hash, author_obj, code_revision
                    )
            except IntegrityError:  # stored concurrently by an identical run
                stored = Plan.objects.get(content_hash=content_hash)
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
) -> Plan:
    labels = {m.task: m.label for m in plan.migrations if m.task}
    tasks = _tasks_for(labels, labels)
    stored = Plan.objects.create(
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
    Finding.objects.bulk_create(
        (
            Finding(
                plan=stored,
                plan_migration=mig_by_key.get((f.app_label or "", f.migration or "")),
                operation=op_by_key.get((f.app_label or "", f.migration or "", f.operation_index))
                if f.operation_index is not None
                else None,
                fingerprint=fp,
                slot=_slot(f),
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


def _gated(plan: am.Plan) -> Any:
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


def _sync_requests(plan: am.Plan, fingerprints: list[str], stored: Plan, author: Any) -> None:
    gated = _gated(plan)
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
                slot=_slot(f),
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
            _set_status(r, _computed_status(r))
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
                _set_status(r, ApprovalRequest.Status.STALE)
                audit("request.stale", subject=str(r), data={"fingerprint": r.fingerprint})


def _computed_status(r: ApprovalRequest) -> str:
    state = _review_states([(r.fingerprint, r.slot, r.severity)])[r.fingerprint]
    if state.rejections:
        return ApprovalRequest.Status.REJECTED
    if state.passes:
        return ApprovalRequest.Status.APPROVED
    return ApprovalRequest.Status.OPEN


def _set_status(r: ApprovalRequest, status: str) -> None:
    if r.status != status:
        ApprovalRequest.objects.filter(pk=r.pk).update(status=status)
        r.status = status


# --------------------------------------------------------------------------- decisions


def authored_by(user: AnyUser) -> set[tuple[str, str]]:
    """The migrations ``user`` is a recorded author of (one query; pages pass it on)."""
    uid = getattr(user, "pk", None)
    if uid is None:
        return set()
    return set(MigrationAuthor.objects.filter(user_id=uid).values_list("app_label", "name"))


def is_owner(
    user: AnyUser, request: ApprovalRequest, *, authored: set[tuple[str, str]] | None = None
) -> bool:
    """Four eyes: the task's owner, the author of the plan that opened the request and
    the migration's authors (``authored``: see authored_by)."""
    uid = getattr(user, "pk", None)
    if uid is None:
        return False
    if request.requested_by_id == uid:
        return True
    authored = authored_by(user) if authored is None else authored
    if (request.app_label, request.migration_name) in authored:
        return True
    if request.task_id and ApprovalRequest.task.is_cached(request):  # type: ignore[attr-defined]
        # Pages that list many requests load their tasks once (select_related).
        return bool(request.task and request.task.owner_id == uid)
    return bool(request.task_id and Task.objects.filter(pk=request.task_id, owner_id=uid).exists())


def can_decide(
    user: AnyUser, request: ApprovalRequest, *, authored: set[tuple[str, str]] | None = None
) -> tuple[bool, str]:
    """Whether ``user`` may decide on ``request``, and if not, why (for the UI)."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm(APPROVE_PERMISSION):
        return False, "You do not hold the dbgov.approve_finding permission."
    if request.status == ApprovalRequest.Status.STALE:
        return False, "The migration changed since; review its current content."
    if request.task_id and request.task and request.task.owner_id is None:
        return False, (
            f"Task {request.task.key} has no owner: assign one before anyone decides "
            "(four eyes needs to know whose work it is)."
        )
    if is_owner(user, request, authored=authored):
        return False, "Four eyes: nobody decides on a finding of their own task, plan or migration."
    return True, ""


def decide(
    request: ApprovalRequest | int | str,
    *,
    user: AnyUser,
    decision: str,
    reason: str,
) -> Approval:
    """Record an approval or a rejection; raises PermissionDenied / GovernanceError."""
    reason = (reason or "").strip()
    if decision not in (Approval.Decision.APPROVED, Approval.Decision.REJECTED):
        raise GovernanceError(f"Unknown decision {decision!r}.")
    if not reason:
        raise GovernanceError("A decision needs a reason.")
    if not getattr(user, "is_authenticated", False) or not user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Deciding on findings needs the dbgov.approve_finding permission.")
    with transaction.atomic():
        r = _lock_request(request)
        ok, why = can_decide(user, r)
        if not ok:
            raise GovernanceError(f"{r}: {why}")
        if r.status == ApprovalRequest.Status.REJECTED:
            raise GovernanceError(f"{r}: already rejected; change the migration instead.")
        current = _valid_decisions(Approval.objects.filter(request=r).order_by("created_at", "id"))
        if any(a.reviewer_id == user.pk and a.decision == decision for a in current):
            raise GovernanceError(f"{r}: you already {decision} this finding.")
        approval = Approval.objects.create(
            request=r,
            fingerprint=r.fingerprint,
            decision=decision,
            reviewer=user,
            reason=reason,
            reviewer_permitted=True,  # checked above; signed with the row
        )
        _set_status(r, _computed_status(r))
        audit(
            f"finding.{decision}",
            actor=user,
            subject=str(r),
            reason=reason,
            data={"fingerprint": r.fingerprint, "request": r.pk, "status": r.status},
        )
        if r.task_id:
            refresh_task_statuses({r.task.key} if r.task else set())
    return approval


def approve(request: ApprovalRequest | int | str, *, user: AnyUser, reason: str) -> Approval:
    return decide(request, user=user, decision=Approval.Decision.APPROVED, reason=reason)


def reject(request: ApprovalRequest | int | str, *, user: AnyUser, reason: str) -> Approval:
    return decide(request, user=user, decision=Approval.Decision.REJECTED, reason=reason)


def revoke(approval: Approval | int, *, user: AnyUser, reason: str) -> Approval:
    """Withdraw an approval (its own reviewer or another DBA); the request reopens."""
    reason = (reason or "").strip()
    if not reason:
        raise GovernanceError("A revocation needs a reason.")
    if not getattr(user, "is_authenticated", False) or not user.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Revoking needs the dbgov.approve_finding permission.")
    with transaction.atomic():
        target = approval if isinstance(approval, Approval) else Approval.objects.get(pk=approval)
        if target.decision != Approval.Decision.APPROVED:
            raise GovernanceError("Only approvals can be revoked.")
        if Approval.objects.filter(revokes=target).exists():
            raise GovernanceError("This approval is already revoked.")
        r = _lock_request(target.request_id)
        if is_owner(user, r):  # PostgreSQL refuses it too (four_eyes); say why instead
            raise GovernanceError(
                f"{r}: Four eyes: nobody decides on a finding of their own task, plan or "
                "migration, revocations included; ask another reviewer."
            )
        row = Approval.objects.create(
            request=r,
            fingerprint=r.fingerprint,
            decision=Approval.Decision.REVOKED,
            reviewer=user,
            reason=reason,
            revokes=target,
            reviewer_permitted=True,
        )
        if r.status != ApprovalRequest.Status.STALE:
            _set_status(r, _computed_status(r))
        audit(
            "finding.revoked",
            actor=user,
            subject=str(r),
            reason=reason,
            data={"fingerprint": r.fingerprint, "approval": target.pk},
        )
        if r.task:
            refresh_task_statuses({r.task.key})
    return row


def _lock_request(request: ApprovalRequest | int | str) -> ApprovalRequest:
    qs = ApprovalRequest.objects.select_for_update(of=("self",)).select_related("task")
    try:
        if isinstance(request, ApprovalRequest):
            return qs.get(pk=request.pk)
        if isinstance(request, int) or (isinstance(request, str) and request.isdigit()):
            return qs.get(pk=int(request))
        matches = list(qs.filter(fingerprint__startswith=request)[:2])
    except ApprovalRequest.DoesNotExist:
        raise GovernanceError(f"No approval request {request}.") from None
    if len(matches) != 1:
        raise GovernanceError(
            f"No approval request with fingerprint {request!r}."
            if not matches
            else f"Fingerprint prefix {request!r} is ambiguous."
        )
    return matches[0]


# --------------------------------------------------------------------------- tasks


def refresh_task_statuses(
    keys: Iterable[str], *, on_disk: dict[str, set[tuple[str, str]]] | None = None
) -> None:
    """Recompute draft / in review / approved / applied for these tasks.

    ``on_disk`` adds the migration files naming each task (the admin passes them, so
    that a task no stored plan covers yet is not "draft" while its files are applied).
    """
    keys = {k for k in keys if k}
    if not keys:
        return
    from django.db.migrations.recorder import MigrationRecorder

    latest = (
        PlanMigration.objects.filter(task_key__in=keys)
        .order_by("app_label", "name", "-plan_id")
        .distinct("app_label", "name")
        .values_list("task_key", "app_label", "name")
    )
    migrations: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for key, app, name in latest:
        migrations[key].add((app, name))
    for key, found in (on_disk or {}).items():
        migrations[key] |= found
    recorder = MigrationRecorder(connections["default"])
    applied = set(recorder.applied_migrations()) if recorder.has_table() else set()
    pending_review = set(
        ApprovalRequest.objects.filter(
            task__key__in=keys,
            status__in=[ApprovalRequest.Status.OPEN, ApprovalRequest.Status.REJECTED],
        ).values_list("task__key", flat=True)
    )
    for task in Task.objects.filter(key__in=keys):
        migs = migrations.get(task.key, set())
        if not migs:
            status = Task.Status.DRAFT
        elif migs <= applied:
            status = Task.Status.APPLIED
        elif task.key in pending_review:
            status = Task.Status.IN_REVIEW
        else:
            status = Task.Status.APPROVED
        if task.status != status:
            Task.objects.filter(pk=task.pk).update(status=status)


# --------------------------------------------------------------------------- gate


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
    gated = _gated(plan)
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
    fingerprinter = _Fingerprinter(plan)
    items = [(fingerprinter(f), _slot(f), str(f.severity)) for f in considered]
    states = _review_states(items)
    ownerless = _ownerless_tasks(plan)
    for f, (fp, _, _) in zip(considered, items, strict=True):
        entry = Blocked(f, states[fp])
        key = ownerless.get(f.migration_label or "")
        if key and entry.state.needed:
            # Nobody is excluded by four eyes on a task without owner: no approval counts.
            entry.state.discounted += entry.state.approvals
            entry.state.approvals = []
            entry.state.task_without_owner = key
        (result.passed if entry.state.passes else result.blocked).append(entry)
    return result


def _ownerless_tasks(plan: am.Plan) -> dict[str, str]:
    """Migration label -> task key, for migrations naming an unknown or owner-less task."""
    named = {m.label: m.task for m in plan.migrations if m.task}
    if not named:
        return {}
    owned = set(
        Task.objects.filter(key__in=set(named.values()), owner__isnull=False).values_list(
            "key", flat=True
        )
    )
    return {label: key for label, key in named.items() if key not in owned}


# --------------------------------------------------------------------------- ledger


def installed(database: str = "default") -> bool:
    """Whether dbgov's governance tables exist on ``database``."""
    try:
        return ApprovalRequest._meta.db_table in connections[database].introspection.table_names()
    except DatabaseError:
        return False


def record_ledger(
    migration_plan: Iterable[tuple[Any, bool]],
    *,
    using: str,
    app_label: str | None = None,
    sql: dict[tuple[str, str], str] | None = None,
) -> int:
    """Append the sha256 of each migration file just (un)applied (of ``app_label``
    only, when given), with the sha256 of its rendered SQL when ``sql`` knows it."""
    rows = []
    sql = sql or {}
    for migration, backwards in migration_plan:
        if app_label is not None and migration.app_label != app_label:
            continue
        path = migration_file(migration)
        sha = _file_sha256(path) if path is not None and path.exists() else ""
        rows.append(
            Ledger(
                database=using,
                app_label=migration.app_label,
                name=migration.name,
                action=Ledger.Action.UNAPPLIED if backwards else Ledger.Action.APPLIED,
                sha256=sha,
                sql_sha256=sql.get((migration.app_label, migration.name), ""),
                path=display_path(path),
            )
        )
    Ledger.objects.using(using).bulk_create(rows)
    return len(rows)


def integrity_findings(database: str = "default", plan: am.Plan | None = None) -> list[am.Finding]:
    """Applied migrations whose file changed since, or that are missing on disk; with
    a ``plan`` that rendered applied migrations (``plan --all``), also those whose SQL
    differs from the SQL recorded when they were applied."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[database]
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    applied = set(recorder.applied_migrations())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    disk = loader.disk_migrations
    replaced = {key for m in disk.values() for key in (m.replaces or [])}
    latest: dict[tuple[str, str], Ledger] = {}
    if Ledger._meta.db_table in connection.introspection.table_names():
        from .integrity import signature_ok, signing_keys

        keys = dict(signing_keys())
        # Only signed rows speak for what was applied: a row INSERTed around dbgov
        # (dbgov verify names it) cannot hide an edited migration.
        for entry in (
            Ledger.objects.using(database).filter(database=database).order_by("-seq", "-id")
        ):
            key = (entry.app_label, entry.name)
            if key not in latest and signature_ok(entry, keys):
                latest[key] = entry
    rendered_sql = {
        m.key: sha
        for m in (plan.migrations if plan is not None else [])
        if (sha := m.sql_sha256) is not None  # compared for applied migrations below
    }
    findings: list[am.Finding] = []
    for key in sorted(applied):
        app, name = key
        if app not in loader.migrated_apps:
            continue  # an app removed from INSTALLED_APPS: not ours to judge
        recorded = latest.get(key)
        if key not in disk:
            if key in replaced:
                continue
            findings.append(
                am.Finding(
                    rule_id=RULE_APPLIED_MISSING,
                    severity=am.Severity.ERROR,
                    message=(
                        f"{app}.{name} is recorded as applied on {database!r} but its file "
                        "is missing on disk."
                    ),
                    safe_alternative=(
                        "Restore the migration file from version control. Squashed "
                        "migrations keep their originals until every database applied the "
                        "squash (`replaces`)."
                    ),
                    app_label=app,
                    migration=name,
                    path=recorded.path if recorded else None,
                )
            )
            continue
        if recorded is None or recorded.action != Ledger.Action.APPLIED or not recorded.sha256:
            continue  # applied before dbgov kept the ledger: nothing to compare with
        path = migration_file(disk[key])
        if path is None or not path.exists():
            continue
        sha = _file_sha256(path)
        rendered = rendered_sql.get(key)
        if sha == recorded.sha256 and rendered and recorded.sql_sha256 not in ("", rendered):
            findings.append(
                am.Finding(
                    rule_id=RULE_APPLIED_CHANGED,
                    severity=am.Severity.ERROR,
                    message=(
                        f"{app}.{name} was applied on {database!r} with SQL sha256 "
                        f"{recorded.sql_sha256[:12]}… but now renders {rendered[:12]}…: its "
                        "file is unchanged, something it reads (a .sql file?) changed."
                    ),
                    safe_alternative=(
                        "Restore what the migration reads to the applied content and write "
                        "the change as a new migration."
                    ),
                    app_label=app,
                    migration=name,
                    path=display_path(path),
                )
            )
            continue
        if sha != recorded.sha256:
            findings.append(
                am.Finding(
                    rule_id=RULE_APPLIED_CHANGED,
                    severity=am.Severity.ERROR,
                    message=(
                        f"{app}.{name} was applied on {database!r} with sha256 "
                        f"{recorded.sha256[:12]}… but the file is now {sha[:12]}…: never "
                        "modify applied migrations."
                    ),
                    safe_alternative=(
                        "Restore the file to the content that was applied and write the "
                        "change as a new migration (`dbgov makemigrations --task T-NNN`)."
                    ),
                    app_label=app,
                    migration=name,
                    path=display_path(path),
                )
            )
    return findings
