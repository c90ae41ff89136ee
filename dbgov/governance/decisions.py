"""Decisions: approve, reject, revoke, with permission, reason and four-eyes checks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from dbgov.models import (
    Approval,
    ApprovalRequest,
    MigrationAuthor,
    Task,
)

from .audit import audit
from .common import AnyUser, GovernanceError
from .recheck import APPROVE_PERMISSION
from .review import computed_status, set_status, valid_decisions
from .tasks import refresh_task_statuses


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
        current = valid_decisions(Approval.objects.filter(request=r).order_by("created_at", "id"))
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
        set_status(r, computed_status(r))
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
            set_status(r, computed_status(r))
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
