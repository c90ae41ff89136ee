"""Models of the governance area: stored plans, findings, approvals, audit, ledger.

Invariants live in PostgreSQL (django-pgtrigger, ``Meta.triggers``); the Python
services in ``dbgov.governance`` only explain what the database already refuses:

- ``Plan``, ``PlanMigration``, ``PlanOperation`` and ``Finding`` are frozen once
  stored (no UPDATE).
- ``Approval`` (the decisions), ``AuditEvent`` and ``Ledger`` are append-only (no
  UPDATE, no DELETE).
- ``ApprovalRequest.status`` moves only along legal transitions (FSM), its other
  columns are frozen, and requests are never deleted.
- Nobody records a decision on a request of their own task, plan or migration (four
  eyes; the `dbgov_guard_*` triggers of dbgov.governance.guards hold even when
  `pgtrigger.ignore` is set). Approvals, audit events and ledger rows are signed and
  chained (dbgov.models.integrity).
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from .integrity import ChainedModel

__all__ = [
    "Approval",
    "ApprovalRequest",
    "AuditEvent",
    "Finding",
    "Ledger",
    "Plan",
    "PlanMigration",
    "PlanOperation",
    "SEVERITY_CHOICES",
    "StoredFinding",
    "StoredPlan",
]

SEVERITY_CHOICES = [
    ("info", "info"),
    ("warning", "warning"),
    ("requires-care", "requires care"),
    ("never-without-a-plan", "never without a plan"),
    ("error", "error"),
]

_FROZEN = pgtrigger.ReadOnly(name="frozen")


class Plan(models.Model):
    """One stored run of ``dbgov plan``; identical content is stored once."""

    database = models.CharField(max_length=100)
    selection = models.CharField(max_length=16, default="pending")
    task_key = models.CharField(max_length=32, blank=True)
    code_revision = models.CharField(max_length=100, blank=True)
    server_version = models.IntegerField(null=True, blank=True)
    duration_s = models.FloatField(default=0.0)
    content_hash = models.CharField(max_length=64, unique=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dbgov_plans",
    )
    migration_count = models.IntegerField(default=0)
    finding_count = models.IntegerField(default=0)
    review_count = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        triggers = [pgtrigger.ReadOnly(name="frozen", exclude=["author"])]

    def __str__(self) -> str:
        return f"Plan #{self.pk} ({self.database}, {self.migration_count} migrations)"


class PlanMigration(models.Model):
    """A migration covered by a stored plan, as it was on disk at that time."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="migrations")
    position = models.IntegerField()
    app_label = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=500, blank=True)
    task = models.ForeignKey(
        "dbgov.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_key = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    atomic = models.BooleanField(default=True)
    selected = models.BooleanField(default=True)
    applied = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # Before or after the deploy (dbgov/analysis/phases.py)
    phase = models.CharField(
        max_length=4, choices=[("pre", "pre-deploy"), ("post", "post-deploy")], default="pre"
    )

    class Meta:
        ordering = ["plan", "position"]
        triggers = [pgtrigger.ReadOnly(name="frozen", exclude=["task"])]
        indexes = [models.Index(fields=["task_key"], name="dbgov_planmig_task_idx")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"


class PlanOperation(models.Model):
    """One operation of a planned migration with its SQL and lock facts."""

    migration = models.ForeignKey(
        PlanMigration, on_delete=models.CASCADE, related_name="operations"
    )
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="operations")
    position = models.IntegerField(help_text="Order of the operation in the whole plan.")
    index = models.IntegerField()
    type = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    line = models.IntegerField(null=True, blank=True)
    # [{"sql", "lock", "rewrites", "scans", "kind", "deferred", "new_table"}]
    statements = models.JSONField(default=list)
    lock = models.CharField(max_length=32, blank=True)
    rewrites = models.BooleanField(default=False)
    scans = models.BooleanField(default=False)
    renders_sql = models.BooleanField(default=True)
    reversible = models.BooleanField(default=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "position"]
        triggers = [_FROZEN]
        indexes = [models.Index(fields=["plan", "position"], name="dbgov_planop_pos_idx")]

    def __str__(self) -> str:
        return f"{self.migration_id}#{self.index} {self.type}"


class Finding(models.Model):
    """One finding of a stored plan. Frozen: the database refuses any UPDATE."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="findings")
    plan_migration = models.ForeignKey(
        PlanMigration, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    operation = models.ForeignKey(
        PlanOperation, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    fingerprint = models.CharField(max_length=64, db_index=True)
    slot = models.CharField(max_length=400, help_text="app.migration#op:rule, stable across edits")
    rule_id = models.CharField(max_length=100)
    severity = models.CharField(max_length=32, choices=SEVERITY_CHOICES)
    severity_rank = models.SmallIntegerField()
    message = models.TextField()
    safe_alternative = models.TextField(blank=True)
    app_label = models.CharField(max_length=100, blank=True)
    migration_name = models.CharField(max_length=200, blank=True)
    task_key = models.CharField(max_length=32, blank=True)
    operation_index = models.IntegerField(null=True, blank=True)
    statement_index = models.IntegerField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    line = models.IntegerField(null=True, blank=True)
    table = models.CharField(max_length=200, blank=True)
    lock = models.CharField(max_length=32, blank=True)
    rewrites = models.BooleanField(default=False)
    scans = models.BooleanField(default=False)
    sql = models.TextField(blank=True)
    suppressed = models.TextField(blank=True)
    needs_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "-severity_rank", "id"]
        triggers = [_FROZEN]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.migration_label}"

    @property
    def migration_label(self) -> str:
        return f"{self.app_label}.{self.migration_name}" if self.migration_name else ""


class ApprovalRequest(models.Model):
    """The review of one finding content (fingerprint): the approval queue's rows.

    ``status`` summarises the append-only decisions (``Approval``); the gate recounts
    the decisions themselves. A request whose migration was edited becomes *stale*:
    its approvals no longer count for the new content, which gets a new request.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        STALE = "stale", "Stale (migration changed)"

    fingerprint = models.CharField(max_length=64, unique=True)
    slot = models.CharField(max_length=400, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    rule_id = models.CharField(max_length=100)
    severity = models.CharField(max_length=32, choices=SEVERITY_CHOICES)
    severity_rank = models.SmallIntegerField()
    message = models.TextField()
    safe_alternative = models.TextField(blank=True)
    app_label = models.CharField(max_length=100, blank=True)
    migration_name = models.CharField(max_length=200, blank=True)
    operation_index = models.IntegerField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    line = models.IntegerField(null=True, blank=True)
    lock = models.CharField(max_length=32, blank=True)
    rewrites = models.BooleanField(default=False)
    scans = models.BooleanField(default=False)
    sql = models.TextField(blank=True)
    task = models.ForeignKey(
        "dbgov.Task",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_requests",
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Author of the plan that opened the request; never approves it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-severity_rank", "created_at"]
        verbose_name = "approval request"
        indexes = [
            models.Index(
                fields=["status", "-severity_rank", "created_at"], name="dbgov_apreq_queue_idx"
            )
        ]
        triggers = [
            pgtrigger.Protect(name="append_only_delete", operation=pgtrigger.Delete),
            pgtrigger.ReadOnly(name="frozen", exclude=["status", "updated_at", "plan", "task"]),
            pgtrigger.FSM(
                name="status_fsm",
                field="status",
                transitions=[
                    ("open", "approved"),
                    ("open", "rejected"),
                    ("open", "stale"),
                    ("approved", "open"),  # an approval was revoked
                    ("approved", "rejected"),  # a later veto
                    ("approved", "stale"),
                    ("rejected", "stale"),
                    # the migration was edited back to this exact content
                    ("stale", "open"),
                    ("stale", "approved"),
                    ("stale", "rejected"),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.migration_label} [{self.fingerprint[:12]}]"

    @property
    def migration_label(self) -> str:
        return f"{self.app_label}.{self.migration_name}" if self.migration_name else ""


# PL/pgSQL: refuse a decision by the request's task owner or plan author.
_FOUR_EYES_SQL = """
    IF EXISTS (
        SELECT 1
        FROM dbgov_approvalrequest r
        LEFT JOIN dbgov_task t ON t.id = r.task_id
        WHERE r.id = NEW.request_id
          AND (r.requested_by_id = NEW.reviewer_id OR t.owner_id = NEW.reviewer_id)
    ) THEN
        RAISE EXCEPTION 'dbgov: four eyes: user % may not decide on request % of their own task or plan',
            NEW.reviewer_id, NEW.request_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
"""


class Approval(ChainedModel):
    """One decision on one finding content. Append-only in the database, signed and
    chained (dbgov.models.integrity)."""

    SIGNED_FIELDS = (
        "request_id",
        "fingerprint",
        "decision",
        "reviewer_id",
        "reviewer_permitted",
        "reason",
        "revokes_id",
        "created_at",
    )

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="approvals")
    fingerprint = models.CharField(max_length=64, db_index=True)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dbgov_approvals"
    )
    reason = models.TextField()
    revokes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revoked_by",
        help_text="The approval this revocation withdraws.",
    )
    # Whether the reviewer held dbgov.approve_finding when deciding (signed): the gate
    # counts an approval only if so (None: decided before dbgov recorded it).
    reviewer_permitted = models.BooleanField(null=True, editable=False)
    # Not auto_now_add: the value is signed before the row is inserted.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("approve_finding", "Can approve or reject migration findings")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason__regex=r"^\s*$"), name="dbgov_approval_reason"
            ),
            models.CheckConstraint(
                condition=models.Q(decision="revoked", revokes__isnull=False)
                | (~models.Q(decision="revoked") & models.Q(revokes__isnull=True)),
                name="dbgov_approval_revokes",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="append_only_delete", operation=pgtrigger.Delete),
            pgtrigger.Trigger(
                name="four_eyes",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func=pgtrigger.Func(_FOUR_EYES_SQL),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.reviewer_id} on {self.fingerprint[:12]}"


class AuditEvent(ChainedModel):
    """Append-only log of every governance action, signed and chained."""

    SIGNED_FIELDS = ("action", "actor_id", "actor_name", "subject", "reason", "data", "created_at")

    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    subject = models.CharField(max_length=400, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit event"
        triggers = [
            pgtrigger.Protect(name="append_only_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="append_only_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.subject}"


class Ledger(ChainedModel):
    """Checksum of a migration file (and of the SQL it ran) when it was applied (or
    unapplied). Append-only, signed and chained.

    The latest row per (database, app_label, name) is what that database holds.
    """

    SIGNED_FIELDS = (
        "database",
        "app_label",
        "name",
        "action",
        "sha256",
        "sql_sha256",
        "path",
        "recorded_at",
    )

    class Action(models.TextChoices):
        APPLIED = "applied", "Applied"
        UNAPPLIED = "unapplied", "Unapplied"

    database = models.CharField(max_length=100)
    app_label = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=Action.choices)
    sha256 = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=500, blank=True)
    # sha256 of the SQL the migration sent when applied (empty: not captured).
    sql_sha256 = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["database", "app_label", "name", "-id"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger"
        indexes = [
            models.Index(fields=["database", "app_label", "name"], name="dbgov_ledger_mig_idx")
        ]
        triggers = [
            pgtrigger.Protect(name="append_only_update", operation=pgtrigger.Update),
            pgtrigger.Protect(name="append_only_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.database}: {self.app_label}.{self.name} {self.action} {self.sha256[:12]}"


# The governance code's names for the stored plan and finding: ``dbgov.analysis.model``
# has its own ``Plan`` and ``Finding`` (what the analysis returns). The classes keep their
# names because content types, permission codenames (``dbgov.view_plan``) and admin
# URLs derive from them.
StoredPlan = Plan
StoredFinding = Finding
