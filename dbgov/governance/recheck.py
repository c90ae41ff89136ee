"""The gate re-checks every approval instead of trusting that a row exists.

An approval counts only if its signature verifies (nobody INSERTed it around dbgov),
its reviewer held ``dbgov.approve_finding`` when deciding (recorded and signed in
the row), is still active, and is neither the task's owner, the author of the plan
that opened the request, nor an author of the migration. The database refuses most
of these already (guards, pgtrigger); this is what holds when it was walked around.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from dbgov.models import Approval, ApprovalRequest, MigrationAuthor

__all__ = ["APPROVE_PERMISSION", "DecisionRecheck", "migration_author_ids"]

APPROVE_PERMISSION = "dbgov.approve_finding"


def migration_author_ids(labels: Iterable[tuple[str, str]]) -> dict[tuple[str, str], set[int]]:
    """User ids of the recorded authors of these migrations (one query)."""
    labels = set(labels)
    out: dict[tuple[str, str], set[int]] = defaultdict(set)
    if not labels:
        return out
    rows = MigrationAuthor.objects.filter(
        name__in={name for _, name in labels}, user__isnull=False
    ).values_list("app_label", "name", "user_id")
    for app, name, uid in rows:
        if (app, name) in labels:
            out[(app, name)].add(uid)
    return out


class DecisionRecheck:
    """Re-checks the approvals of a set of requests (constant number of queries)."""

    def __init__(self, requests: Iterable[ApprovalRequest]) -> None:
        from .integrity import signing_keys

        requests = list(requests)
        self.keys = dict(signing_keys())
        self.authors = migration_author_ids((r.app_label, r.migration_name) for r in requests)

    def why_not(self, a: Approval, r: ApprovalRequest) -> str:
        """Why approval ``a`` of request ``r`` does not count ("" when it counts)."""
        from .integrity import signature_ok

        if not signature_ok(a, self.keys):
            return "integrity-violation: the row's signature does not verify (forged or edited)"
        reviewer: Any = a.reviewer
        if a.reviewer_permitted is False or (
            a.reviewer_permitted is None and not reviewer.has_perm(APPROVE_PERMISSION)
        ):
            return "the reviewer did not hold dbgov.approve_finding when deciding"
        if not reviewer.is_active:
            return "the reviewer's account is no longer active"
        if r.requested_by_id == a.reviewer_id:
            return "four eyes: the reviewer requested the plan"
        if r.task_id and r.task and r.task.owner_id == a.reviewer_id:
            return "four eyes: the reviewer owns the task"
        if a.reviewer_id in self.authors.get((r.app_label, r.migration_name), ()):
            return "four eyes: the reviewer wrote the migration"
        return ""
