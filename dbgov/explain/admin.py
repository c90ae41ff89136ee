"""Admin of the explain area: rehearsal runs, their plans side by side, query patterns.

Registered on import; ``dbgov/admin.py`` imports this module with one line. If no
other admin registered ``Task`` before that import, a minimal TaskAdmin is registered
here so that the task page (and its "Rehearse" button, added by the template
``admin/dbgov/task/change_form.html``) exists; the governance admin registers its own
TaskAdmin first and keeps the button, which only needs the template and the URL
``admin:dbgov_explainrun_rehearse``.

Plan trees are drawn server-side from the stored EXPLAIN JSON, as an indented table in
the style of explain.depesz.com (one row per node: exclusive and inclusive time,
estimated vs actual rows, loops, buffers; the slowest node highlighted). No JavaScript
bundle to vendor and keep up to date, it works with the admin's CSP and its dark mode,
and it prints. (pev2, the maintained visualiser, needs Vue 3 and a ~1 MB bundle for
what a table shows here.)
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from dbgov.models import ExplainRun, MigrationRehearsal, QueryPattern, QueryPlan, Task

from .explain import format_ms
from .plantree import plan_tree

__all__ = ["ExplainRunAdmin", "QueryPatternAdmin"]


def _plan_context(plan: QueryPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {"plan": plan, "tree": plan_tree(plan.plan)}


def comparisons(run: ExplainRun) -> list[dict[str, Any]]:
    """Per query pattern: before and after plans, the verdict and its tone."""
    by_name: dict[str, dict[str, QueryPlan]] = {}
    for qp in run.query_plans.all():
        by_name.setdefault(qp.pattern_name, {})[qp.phase] = qp
    out = []
    for name, phases in by_name.items():
        before, after = phases.get("before"), phases.get("after")
        ref = after or before
        assert ref is not None
        if (before and before.status == "failed") or (after and after.status == "failed"):
            tone = "failed"
        elif after and after.regression:
            tone = "regression"
        elif after and after.over_budget:
            tone = "over-budget"
        elif (
            before
            and after
            and before.execution_ms is not None
            and after.execution_ms is not None
            and after.execution_ms < before.execution_ms
        ):
            tone = "better"
        else:
            tone = "neutral"
        verdict = (after.verdict or after.error) if after else (before.error if before else "")
        if after is None and before is not None and not before.error:
            verdict = "no “after” plan: the rehearsal stopped before it"
        out.append(
            {
                "name": name,
                "sql": ref.sql,
                "params": ref.params,
                "verdict": verdict,
                "tone": tone,
                "before": _plan_context(before),
                "after": _plan_context(after),
            }
        )
    tone_order = {"regression": 0, "failed": 1, "over-budget": 2, "better": 3, "neutral": 4}

    def gain(c: dict[str, Any]) -> float:
        b, a = c["before"], c["after"]
        if not (b and a and b["plan"].execution_ms and a["plan"].execution_ms):
            return 0.0
        return float(b["plan"].execution_ms / a["plan"].execution_ms)

    # Problems first, then the biggest improvements.
    out.sort(key=lambda c: (tone_order[c["tone"]], -gain(c), c["name"]))
    return out


@admin.register(ExplainRun)
class ExplainRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "task_key",
        "colored_status",
        "summary",
        "worker",
        "created_at",
        "duration",
    ]
    list_filter = ["status", "task"]
    list_select_related = ["task"]
    search_fields = ["task__key", "task__title", "error"]
    date_hierarchy = "created_at"
    change_form_template = "admin/dbgov/explainrun/run.html"
    fieldsets = [
        (None, {"fields": [("task", "colored_status", "step"), "error", "migrations_covered"]}),
        (
            "Where and how long",
            {
                "fields": [
                    ("database_alias", "copy_name", "copy_time", "duration"),
                    ("worker", "attempts", "requested_by"),
                    ("created_at", "started_at", "finished_at"),
                ]
            },
        ),
    ]
    readonly_fields = [
        "task",
        "colored_status",
        "step",
        "error",
        "migrations_covered",
        "database_alias",
        "copy_name",
        "copy_time",
        "duration",
        "worker",
        "attempts",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
    ]

    class Media:
        css = {"all": ["dbgov/explain.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def colored_status(self, run: ExplainRun) -> str:
        return format_html(
            '<span class="dbgov-status dbgov-status-{}">{}</span>',
            run.status,
            run.get_status_display(),
        )

    @admin.display(description="task", ordering="task__key")
    def task_key(self, run: ExplainRun) -> str:
        return format_html('<span title="{}">{}</span>', run.task.title, run.task.key)

    @admin.display(description="verdict")
    def summary(self, run: ExplainRun) -> str:
        if run.status == ExplainRun.Status.FAILED:
            return run.error.splitlines()[0][:200] if run.error else "failed"
        if run.status != ExplainRun.Status.SUCCEEDED:
            return run.step
        verdicts = [
            (p.pattern_name, p.verdict)
            for p in run.query_plans.all()
            if p.phase == QueryPlan.Phase.AFTER and p.verdict
        ]
        return format_html_join(mark_safe("<br>"), "<strong>{}</strong>: {}", verdicts) or "—"

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, run: ExplainRun) -> str:
        return format_ms(run.duration_ms) if run.duration_ms is not None else "—"

    @admin.display(description="copy (CREATE DATABASE … TEMPLATE)", ordering="copy_ms")
    def copy_time(self, run: ExplainRun) -> str:
        return format_ms(run.copy_ms) if run.copy_ms is not None else "—"

    @admin.display(description="migrations covered")
    def migrations_covered(self, run: ExplainRun) -> str:
        return ", ".join(run.migration_keys) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExplainRun]:
        return super().get_queryset(request).prefetch_related("query_plans")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if run is not None:
            extra["comparisons"] = comparisons(run)
            extra["rehearsals"] = list(MigrationRehearsal.objects.filter(run=run).order_by("order"))
            extra["budget_ms"] = format_ms(_budget())
            extra["title"] = f"Rehearsal run {run.pk} of {run.task.key}"
        return super().change_view(request, object_id, form_url, extra)

    # The "Rehearse" action -----------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "rehearse/<int:task_id>/",
                self.admin_site.admin_view(self.rehearse_view),
                name="{}_{}_rehearse".format(*info),
            ),
            *super().get_urls(),
        ]

    def rehearse_view(self, request: HttpRequest, task_id: int) -> HttpResponse:
        from .copy import CopyError
        from .runs import BrokerUnavailable, enqueue_rehearsal

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        task = get_object_or_404(Task, pk=task_id)
        back = reverse("admin:dbgov_task_change", args=[task.pk])
        if not request.user.has_perm("dbgov.rehearse_task"):
            self.message_user(request, "You may not start rehearsals.", messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            run = enqueue_rehearsal(task, requested_by=request.user.get_username())
        except (BrokerUnavailable, CopyError) as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(back)
        self.message_user(
            request,
            f"Queued rehearsal run {run.pk} of {task.key}: a worker copies staging, "
            f"applies the migrations and EXPLAINs the queries.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:dbgov_explainrun_change", args=[run.pk]))


def _budget() -> float:
    from dbgov.conf import dbgov_settings

    return float(dbgov_settings.OLTP_BUDGET_MS)


@admin.register(QueryPattern)
class QueryPatternAdmin(admin.ModelAdmin):
    list_display = ["name", "tables", "description", "updated_at"]
    search_fields = ["name", "sql", "description"]

    @admin.display(description="tables")
    def tables(self, pattern: QueryPattern) -> str:
        from .patterns import sql_tables

        return ", ".join(sorted(sql_tables(pattern.sql))) or "—"


if not admin.site.is_registered(Task):

    @admin.register(Task)
    class _TaskAdmin(admin.ModelAdmin):
        """Minimal task admin until the governance admin registers its own."""

        list_display = ["key", "title", "status", "owner"]
        search_fields = ["key", "title"]
