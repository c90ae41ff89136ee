"""Admin of the explain area: rehearsal runs, their plans side by side, query patterns.

Registered on import; ``dbgov/admin/__init__.py`` imports this module last. If no other
admin registered ``Task`` before that import, a minimal TaskAdmin is registered here so
that the task page (and its "Rehearse" button, added by the template
``admin/dbgov/task/change_form.html``) exists.

Plan trees are drawn server-side from the stored EXPLAIN JSON as an indented table
(one row per node: exclusive and inclusive time with a bar for its share, rows per loop
estimated and actual with the misestimate factor, loops, buffers with a bar, and the
node's notes: rows removed by filter, sort method and memory, heap fetches, I/O timing,
temp buffers). No JavaScript bundle to vendor and keep up to date, it works with the
admin's CSP and its dark mode, it prints, and the raw JSON is one click away for pev2.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from dbgov.models import ExplainRun, QueryPattern, QueryPlan, Task

from .compare import align, compare, spread
from .explain import ExplainResult, format_ms, parse_explain
from .plantree import plan_tree
from .report import build_report, format_bytes

__all__ = ["ExplainRunAdmin", "QueryPatternAdmin", "comparisons"]


def _desk() -> Any:
    # dbgov.admin imports this module; the shared base lives there.
    from dbgov.admin.common import DeskAdmin

    return DeskAdmin


def _result(plan: QueryPlan) -> ExplainResult:
    """The stored plan as the comparison reads it (its repetitions included)."""
    from .explain import Repetition

    result = parse_explain(plan.plan) if plan.plan else ExplainResult(ok=False)
    result.ok = plan.status == QueryPlan.Status.OK
    result.error = plan.error
    result.execution_ms = plan.execution_ms
    result.repetitions = [Repetition.of(r) for r in plan.repetitions]
    return result


def _side(plan: QueryPlan | None, run: ExplainRun) -> dict[str, Any] | None:
    if plan is None:
        return None
    result = _result(plan)
    return {
        "plan": plan,
        "result": result,
        "tree": plan_tree(plan.plan),
        "spread": spread(result) if plan.status == QueryPlan.Status.OK else None,
        "raw_url": reverse("admin:dbgov_explainrun_plan_json", args=[run.pk, plan.pk]),
    }


def comparisons(run: ExplainRun) -> list[dict[str, Any]]:
    """Per query pattern: both plans, their spreads, the aligned steps, the verdict."""
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
        else:
            tone = "neutral"
        notes: list[str] = []
        aligned: list[Any] = []
        b_side, a_side = _side(before, run), _side(after, run)
        if before and after and before.status == "ok" and after.status == "ok":
            assert b_side is not None and a_side is not None
            cmp = compare(b_side["result"], a_side["result"])
            notes = cmp.notes
            b_blocks, a_blocks = b_side["result"].blocks, a_side["result"].blocks
            fewer_blocks = b_blocks is not None and a_blocks is not None and a_blocks < b_blocks
            if tone == "neutral" and (cmp.time == "better" or fewer_blocks):
                tone = "better"
            aligned = align(b_side["tree"], a_side["tree"])
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
                "notes": notes,
                "before": b_side,
                "after": a_side,
                "aligned": aligned,
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
class ExplainRunAdmin(_desk()):  # type: ignore[misc]
    list_display = [
        "id",
        "task_key",
        "colored_status",
        "summary",
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
                "classes": ["collapse"],
                "fields": [
                    ("database_alias", "copy_name", "copy_time", "duration"),
                    ("worker", "attempts", "requested_by"),
                    ("created_at", "started_at", "finished_at"),
                ],
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExplainRun]:
        from dbgov.admin.common import scoped

        qs = super().get_queryset(request).prefetch_related("query_plans")
        own = Q(task__owner=request.user.pk) | Q(requested_by=request.user.get_username())
        return scoped(request, qs, own)

    @admin.display(description="status", ordering="status")
    def colored_status(self, run: ExplainRun) -> SafeString:
        from dbgov.templatetags.dbgov_desk import status_badge

        return status_badge(run.status, run.get_status_display())

    @admin.display(description="task", ordering="task__key")
    def task_key(self, run: ExplainRun) -> SafeString:
        return format_html('<span title="{}">{}</span>', run.task.title, run.task.key)

    @admin.display(description="verdict")
    def summary(self, run: ExplainRun) -> Any:
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
            report = build_report(run, trees=False)
            extra["comparisons"] = comparisons(run)
            extra["report"] = report
            extra["sizes"] = {
                m.key: format_bytes(m.size_change, signed=True) for m in report.migrations
            }
            extra["budget_ms"] = format_ms(_budget())
            extra["statement_budget_ms"] = format_ms(report.statement_budget_ms)
            extra["title"] = f"Rehearsal run {run.pk} of {run.task.key}"
            # Queued and running runs refresh themselves until they end.
            extra["refresh_s"] = 0 if run.is_terminal else 3
            extra["markdown_url"] = (
                reverse("admin:dbgov_explainrun_report", args=[run.pk]) + "?format=markdown"
            )
            extra["json_url"] = (
                reverse("admin:dbgov_explainrun_report", args=[run.pk]) + "?format=json"
            )
        return super().change_view(request, object_id, form_url, extra)

    # Extra pages: the Rehearse action, raw plans, the report as a file ----------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "rehearse/<int:task_id>/",
                self.admin_site.admin_view(self.rehearse_view),
                name="{}_{}_rehearse".format(*info),
            ),
            path(
                "<int:run_id>/plan/<int:plan_id>.json",
                self.admin_site.admin_view(self.plan_json_view),
                name="{}_{}_plan_json".format(*info),
            ),
            path(
                "<int:run_id>/report/",
                self.admin_site.admin_view(self.report_view),
                name="{}_{}_report".format(*info),
            ),
            *super().get_urls(),
        ]

    def _visible_run(self, request: HttpRequest, run_id: int) -> ExplainRun | HttpResponse:
        from dbgov.admin.common import denied

        if not self.has_view_permission(request):
            return denied(request, self._why_denied(request), site=self.admin_site)
        return get_object_or_404(self.get_queryset(request).select_related("task"), pk=run_id)

    def plan_json_view(self, request: HttpRequest, run_id: int, plan_id: int) -> HttpResponse:
        """The EXPLAIN document as PostgreSQL returned it (for pev2, explain.dalibo.com)."""
        run = self._visible_run(request, run_id)
        if isinstance(run, HttpResponse):
            return run
        plan = get_object_or_404(QueryPlan, run=run, pk=plan_id)
        response = HttpResponse(
            json.dumps(plan.plan, indent=2), content_type="application/json; charset=utf-8"
        )
        name = f"run{run.pk}-{plan.pattern_name.replace(' ', '_')}-{plan.phase}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def report_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        from .report import render_json, render_markdown

        run = self._visible_run(request, run_id)
        if isinstance(run, HttpResponse):
            return run
        report = build_report(run)
        if request.GET.get("format") == "json":
            body, mime, ext = render_json(report), "application/json", "json"
        else:
            body, mime, ext = render_markdown(report), "text/markdown", "md"
        response = HttpResponse(body, content_type=f"{mime}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rehearsal-{run.pk}.{ext}"'
        return response

    def rehearse_view(self, request: HttpRequest, task_id: int) -> HttpResponse:
        from .copy import CopyError
        from .readiness import RehearsalNotConfigured
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
        except (BrokerUnavailable, CopyError, RehearsalNotConfigured) as exc:
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
class QueryPatternAdmin(_desk()):  # type: ignore[misc]
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
