"""Governance services: the public API of the governance area, one import away.

Thin shells (commands, admin views, signal receivers) call these; the database
enforces the invariants (see dbgov.models.governance), these functions explain them.
Each concern lives in its own module: fingerprints, review, decisions, plans, tasks,
gate, ledger, audit, integrity, authors.
"""

from __future__ import annotations

from .audit import audit
from .common import (
    INTEGRITY_RULES,
    RULE_APPLIED_CHANGED,
    RULE_APPLIED_MISSING,
    AnyUser,
    GovernanceError,
)
from .decisions import approve, authored_by, can_decide, decide, is_owner, reject, revoke
from .fingerprints import (
    Fingerprinter,
    display_path,
    file_sha256,
    finding_fingerprint,
    fingerprints,
    migration_file,
    slot,
)
from .gate import Blocked, GateResult, gate
from .ledger import installed, integrity_findings, record_ledger
from .plans import save_plan
from .recheck import APPROVE_PERMISSION
from .review import DecisionInfo, ReviewState, required_approvals, review_state
from .tasks import refresh_task_statuses

__all__ = [
    "APPROVE_PERMISSION",
    "INTEGRITY_RULES",
    "RULE_APPLIED_CHANGED",
    "RULE_APPLIED_MISSING",
    "AnyUser",
    "Blocked",
    "DecisionInfo",
    "Fingerprinter",
    "GateResult",
    "GovernanceError",
    "ReviewState",
    "approve",
    "audit",
    "authored_by",
    "can_decide",
    "decide",
    "display_path",
    "file_sha256",
    "finding_fingerprint",
    "fingerprints",
    "gate",
    "installed",
    "integrity_findings",
    "is_owner",
    "migration_file",
    "record_ledger",
    "refresh_task_statuses",
    "reject",
    "required_approvals",
    "review_state",
    "revoke",
    "save_plan",
    "slot",
]
