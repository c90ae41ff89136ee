"""Review states: the approvals a finding content has, needs, and which of them count."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from dbgov.analysis import model as am
from dbgov.conf import dbgov_settings
from dbgov.models import (
    Approval,
    ApprovalRequest,
    StoredFinding,
)

from .fingerprints import Fingerprinter, slot
from .recheck import DecisionRecheck


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
    reviewer_id: int | None = None

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
            reviewer_id=a.reviewer_id,
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


def valid_decisions(decisions: Iterable[Approval]) -> list[Approval]:
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


def states_of(
    items: Sequence[tuple[str, str, str]],  # (fingerprint, slot, severity)
) -> dict[str, ReviewState]:
    """Review states of many fingerprints in two queries, whatever their number."""
    states: dict[str, ReviewState] = {}
    slots: dict[str, set[str]] = defaultdict(set)
    for fp, slot_, severity in items:
        if fp not in states:
            states[fp] = ReviewState(fingerprint=fp, needed=required_approvals(severity))
        slots[slot_].add(fp)
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
        valid = valid_decisions(rows)
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


def review_state(
    findings: Iterable[StoredFinding | am.Finding | ApprovalRequest], *, plan: am.Plan | None = None
) -> dict[str, ReviewState]:
    """Per finding fingerprint: approvals, approvals needed, stale approvals, decision.

    Accepts stored findings, approval requests, or analysis findings (then the
    migration file hashes come from ``plan``, or from disk).
    """
    fingerprinter: Fingerprinter | None = None
    items: list[tuple[str, str, str]] = []
    for f in findings:
        if isinstance(f, StoredFinding | ApprovalRequest):
            if isinstance(f, StoredFinding) and not f.needs_review:
                items.append((f.fingerprint, f.slot, "info"))
            else:
                items.append((f.fingerprint, f.slot, f.severity))
        else:
            fingerprinter = fingerprinter or Fingerprinter(plan)
            severity = str(f.severity) if f.needs_review else "info"
            items.append((fingerprinter(f), slot(f), severity))
    return states_of(items)


def computed_status(r: ApprovalRequest) -> str:
    state = states_of([(r.fingerprint, r.slot, r.severity)])[r.fingerprint]
    if state.rejections:
        return ApprovalRequest.Status.REJECTED
    if state.passes:
        return ApprovalRequest.Status.APPROVED
    return ApprovalRequest.Status.OPEN


def set_status(r: ApprovalRequest, status: str) -> None:
    if r.status != status:
        ApprovalRequest.objects.filter(pk=r.pk).update(status=status)
        r.status = status
