"""Models of the explain area: query patterns, rehearsal runs and their evidence.

A rehearsal (:class:`ExplainRun`) copies the staging database, EXPLAINs the relevant
:class:`QueryPattern` s before and after applying a task's pending migrations on the
copy, and keeps per query and phase a :class:`QueryPlan` and per migration a
:class:`MigrationRehearsal`.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .tasks import Task

__all__ = ["ExplainRun", "MigrationRehearsal", "QueryPattern", "QueryPlan"]


class QueryPattern(models.Model):
    """A named query an index is justified by, declared in the admin.

    Patterns can also be declared in code, in ``<app>/dbgov_queries.py`` (see
    :mod:`dbgov.explain.patterns`); an admin row overrides a code pattern of the same name.
    """

    name = models.CharField(max_length=200, unique=True)
    sql = models.TextField(
        help_text="One SQL statement; parameters in the %(name)s style, e.g. %(user_id)s."
    )
    params = models.JSONField(default=dict, blank=True, help_text="Sample parameters.")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "query pattern"

    def __str__(self) -> str:
        return self.name


class ExplainRun(models.Model):
    """One rehearsal of a task's pending migrations on a disposable copy of staging."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED)

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="explain_runs")
    # The migrations the run covers, as "app_label.name" keys in plan order. This is
    # also how a stored governance Plan is matched to the run (same keys).
    migration_keys = models.JSONField(default=list, blank=True)
    database_alias = models.CharField(max_length=100)
    copy_name = models.CharField(max_length=63, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=200, blank=True, help_text="What the worker is doing.")
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.CharField(max_length=150, blank=True)
    copy_ms = models.FloatField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    regressions = models.PositiveIntegerField(default=0)
    over_budget = models.PositiveIntegerField(default=0)
    failed_queries = models.PositiveIntegerField(default=0)
    # Estimated rows (pg_class.reltuples after ANALYZE) of the tables the EXPLAINed
    # queries read, on the copy: what "verified on 100K rows" rests on.
    table_rows = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "rehearsal run"
        permissions = [("rehearse_task", "Can start a rehearsal of a task")]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.task.key} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def needs_human(self) -> bool:
        return bool(self.regressions or self.over_budget or self.failed_queries)


class QueryPlan(models.Model):
    """The EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of one query in one phase of a run."""

    class Phase(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"

    class Status(models.TextChoices):
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(ExplainRun, on_delete=models.CASCADE, related_name="query_plans")
    pattern_name = models.CharField(max_length=200)
    sql = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    phase = models.CharField(max_length=8, choices=Phase.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OK)
    error = models.TextField(blank=True)
    plan = models.JSONField(null=True, blank=True)
    planning_ms = models.FloatField(null=True, blank=True)
    execution_ms = models.FloatField(null=True, blank=True)
    top_node = models.CharField(max_length=100, blank=True)
    access_path = models.CharField(max_length=200, blank=True)
    indexes_used = models.JSONField(default=list, blank=True)
    seq_scans = models.JSONField(default=list, blank=True)
    estimated_rows = models.FloatField(null=True, blank=True)
    actual_rows = models.FloatField(null=True, blank=True)
    shared_hit_blocks = models.BigIntegerField(null=True, blank=True)
    shared_read_blocks = models.BigIntegerField(null=True, blank=True)
    over_budget = models.BooleanField(default=False)
    # Every measured repetition: [{"execution_ms", "planning_ms", "blocks", "plan"}];
    # ``plan`` and the fields above are the median one's.
    repetitions = models.JSONField(default=list, blank=True)
    # Set on the "after" plan by the comparison.
    regression = models.BooleanField(default=False)
    verdict = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "pattern_name", "-phase"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "pattern_name", "phase"], name="dbgov_queryplan_unique_phase"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pattern_name} ({self.phase})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern_name,
            "phase": self.phase,
            "status": self.status,
            "error": self.error,
            "planning_ms": self.planning_ms,
            "execution_ms": self.execution_ms,
            "top_node": self.top_node,
            "access_path": self.access_path,
            "indexes_used": self.indexes_used,
            "seq_scans": self.seq_scans,
            "estimated_rows": self.estimated_rows,
            "actual_rows": self.actual_rows,
            "over_budget": self.over_budget,
            "regression": self.regression,
            "verdict": self.verdict,
            "timings_ms": [r.get("execution_ms") for r in self.repetitions],
        }


class MigrationRehearsal(models.Model):
    """One migration applied on the copy: what it executed, how long, which locks."""

    class Status(models.TextChoices):
        OK = "ok", "Applied"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(ExplainRun, on_delete=models.CASCADE, related_name="migrations")
    order = models.PositiveIntegerField()
    app_label = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    task_key = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OK)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    # [{"sql", "ms", "at_ms" (start, from the migration's start), "rows" (rowcount,
    # None for DDL)}] in execution order.
    statements = models.JSONField(default=list, blank=True)
    # [{"relation", "mode", "locktype", "granted", "samples", "first_seen_ms",
    # "last_seen_ms"}]: sampled from pg_locks while the migration ran.
    locks = models.JSONField(default=list, blank=True)
    # pg_database_size of the copy before and after the migration (bytes).
    size_before = models.BigIntegerField(null=True, blank=True)
    size_after = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["run", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "app_label", "name"], name="dbgov_migrationrehearsal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_label}.{self.name}"

    @property
    def key(self) -> str:
        return f"{self.app_label}.{self.name}"
