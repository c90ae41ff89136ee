"""Tasks: the list, the task page (migrations, findings, rehearsals) and its completion
report (``<task>/report/``, also as Markdown and JSON downloads)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from dbgov.governance import services
from dbgov.models import ApprovalRequest, ExplainRun, Task

from .common import DeskAdmin, denied, own_task_q, scoped

__all__ = ["TaskAdmin"]

OPEN_STATUSES = [ApprovalRequest.Status.OPEN, ApprovalRequest.Status.REJECTED]


@admin.register(Task)
class TaskAdmin(DeskAdmin):
    list_display = ["key", "title", "status_display", "owner", "open_findings"]
    list_filter = ["status"]
    search_fields = ["key", "title"]
    list_select_related = ["owner"]
    readonly_fields = ["status", "created_at", "updated_at"]
    change_form_template = "dbgov/admin/task/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        qs = (
            super()
            .get_queryset(request)
            .annotate(
                n_open=Count(
                    "approval_requests", filter=Q(approval_requests__status__in=OPEN_STATUSES)
                )
            )
        )
        return scoped(request, qs, own_task_q(request, prefix=""))

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.audit(
            "task.changed" if change else "task.created",
            actor=request.user,
            subject=obj.key,
            data={"fields": sorted(form.changed_data)},
        )

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: Task) -> Any:
        from dbgov.templatetags.dbgov_desk import status_badge

        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="open findings", ordering="n_open")
    def open_findings(self, obj: Task) -> int:
        return getattr(obj, "n_open", 0)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # Status is derived (plans, decisions, django_migrations): recompute it before
        # showing it, so that reseeded or hand-edited rows never contradict the facts.
        from dbgov.governance.handover import migration_files_by_task

        keys = set(self.get_queryset(request).values_list("key", flat=True))
        services.refresh_task_statuses(keys, on_disk=migration_files_by_task(keys))
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        from dbgov.governance.handover import task_migrations

        task = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if task is not None:
            migrations = task_migrations(task, render=False)
            labels = (m.label.partition(".") for m in migrations if m.path)
            on_disk = {task.key: {(app, name) for app, _, name in labels}}
            services.refresh_task_statuses({task.key}, on_disk=on_disk)
            task.refresh_from_db(fields=["status"])
            requests = list(
                ApprovalRequest.objects.filter(task=task).order_by("-severity_rank", "created_at")
            )
            states = services.review_state(requests)
            extra.update(
                dbgov_migrations=migrations,
                dbgov_requests=[(r, states[r.fingerprint]) for r in requests],
                dbgov_runs=list(
                    ExplainRun.objects.filter(task=task).order_by("-created_at", "-id")[:5]
                ),
                dbgov_report_url=reverse("admin:dbgov_task_report", args=[task.pk]),
            )
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:task_id>/report/",
                self.admin_site.admin_view(self.report_view),
                name="dbgov_task_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest, task_id: int) -> HttpResponse:
        from dbgov.governance.handover import build_handover, render_json, render_markdown

        if not self.has_view_permission(request):
            return denied(request, self._why_denied(request), site=self.admin_site)
        task = self.get_queryset(request).select_related("owner").filter(pk=task_id).first()
        if task is None:
            get_object_or_404(Task, pk=task_id)
            return denied(
                request,
                "This is not your task; developers see the reports of their own tasks.",
                site=self.admin_site,
            )
        handover = build_handover(task)
        fmt = request.GET.get("format")
        if fmt in ("markdown", "json"):
            body = render_markdown(handover) if fmt == "markdown" else render_json(handover)
            ext, mime = (
                ("md", "text/markdown") if fmt == "markdown" else ("json", "application/json")
            )
            response = HttpResponse(body, content_type=f"{mime}; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{task.key}-report.{ext}"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Completion report of {task.key}",
            "task": task,
            "h": handover,
        }
        return TemplateResponse(request, "dbgov/admin/task/report.html", context)
