"""dbgov in the Django admin: the DBA's desk.

Tasks (and their completion report), plan review with inline decisions, the approval
queue, the decision and audit logs, the ledger, the measured throughput of schema work
(docs/risk.md), and the rehearsal runs (registered by
``dbgov.explain.admin``). Extends django.contrib.admin (custom pages through
``get_urls`` + ``admin_view``, templates extending the admin's own); every page's
query count is independent of the number of findings and plan nodes
(tests/governance/test_admin.py).
"""

from __future__ import annotations

import importlib

from .common import highlight_sql, pygments_css
from .logs import ApprovalAdmin, AuditEventAdmin, LedgerAdmin
from .plans import REVIEW_PAGE_SIZE, PlanAdmin
from .queue import ApprovalRequestAdmin, DecisionActionForm, DecisionForm
from .tasks import TaskAdmin
from .throughput import ThroughputAdmin

# The rehearsal admin (runs, query patterns, the Rehearse button) registers itself;
# imported last so that the TaskAdmin above is the one registered.
importlib.import_module("dbgov.explain.admin")

__all__ = [
    "REVIEW_PAGE_SIZE",
    "ApprovalAdmin",
    "ApprovalRequestAdmin",
    "AuditEventAdmin",
    "DecisionActionForm",
    "ThroughputAdmin",
    "DecisionForm",
    "LedgerAdmin",
    "PlanAdmin",
    "TaskAdmin",
    "highlight_sql",
    "pygments_css",
]
