"""Tasks: the unit of work (T-NNN) migrations are written for."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

__all__ = ["TASK_KEY_PATTERN", "Task", "TaskManager", "task_key_validator"]

TASK_KEY_PATTERN = r"^T-\d+$"
task_key_validator = RegexValidator(
    TASK_KEY_PATTERN, "Task keys are T- followed by digits, e.g. T-021."
)


class TaskManager(models.Manager["Task"]):
    """Fixtures refer to tasks by key (``"task": ["T-021"]``)."""

    def get_by_natural_key(self, key: str) -> Task:
        return self.get(key=key)


class Task(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        APPLIED = "applied", "Applied"

    key = models.CharField(max_length=32, unique=True, validators=[task_key_validator])
    title = models.CharField(max_length=200)
    acceptance_criteria = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dbgov_tasks",
        help_text="The developer responsible for the task; never approves its findings.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaskManager()

    class Meta:
        ordering = ["key"]
        permissions = [
            ("view_all_tasks", "Can view every task's plans, findings and runs"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key__regex=TASK_KEY_PATTERN), name="dbgov_task_key_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    def natural_key(self) -> tuple[str]:
        return (self.key,)
