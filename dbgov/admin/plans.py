"""Stored plans and the plan review page: every operation's statements with their facts
(locks per table, rewrite, scan, in a transaction or not) and each finding with an
inline decision form for those who may decide.

The review page's query count does not grow with the number of findings or
operations (tests/governance/test_admin.py): findings, their review states, their
requests and tasks are each loaded once per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from dbgov.governance import services
from dbgov.models import ApprovalRequest, Finding, Plan, PlanMigration, PlanOperation, Task

from .common import (
    ReadOnlyAdmin,
    can_approve,
    denied,
    highlight_sql,
    pygments_css,
    scoped,
    sees_everything,
)

__all__ = ["REVIEW_PAGE_SIZE", "FindingView", "PlanAdmin", "StatementView", "decisions_for"]

REVIEW_PAGE_SIZE = 25


@dataclass
class TableFacts:
    table: str
    lock: str
    rewrites: bool = False
    scans: bool = False


@dataclass
class StatementView:
    html: SafeString
    kind: str
    tables: list[TableFacts]
    in_transaction: bool
    deferred: bool
    new_table: bool
    parse_error: str | None
    # Rows, size and time under its lock on the target (docs/risk.md); "" if none.
    estimate: str = ""


@dataclass
class FindingView:
    """A finding as the page shows it, with what the viewer may do about it."""

    finding: Any  # Finding or ApprovalRequest (same display fields)
    state: services.ReviewState
    request: ApprovalRequest | None = None
    can_decide: bool = False
    why_not: str = ""
    mine: bool = False
    decided_by_me: str = ""
    focus: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def statement_view(doc: dict[str, Any], atomic: bool) -> StatementView:
    """Facts of one stored statement; plans stored before per-table locks were kept
    show the statement's strongest lock on each of its tables."""
    if "locks" in doc:
        tables = [
            TableFacts(t["table"], t["lock"], bool(t.get("rewrites")), bool(t.get("scans")))
            for t in doc["locks"]
        ]
    else:
        tables = [
            TableFacts(t, doc.get("lock", ""), bool(doc.get("rewrites")), bool(doc.get("scans")))
            for t in doc.get("tables") or []
        ]
    return StatementView(
        html=highlight_sql(doc.get("sql", "")),
        kind=doc.get("kind", ""),
        tables=tables,
        in_transaction=atomic and bool(doc.get("transactional", True)),
        deferred=bool(doc.get("deferred")),
        new_table=bool(doc.get("new_table")),
        parse_error=doc.get("parse_error"),
        estimate=(doc.get("estimate") or {}).get("text", "") if not doc.get("new_table") else "",
    )


def decisions_for(
    request: HttpRequest,
    items: list[tuple[Any, services.ReviewState]],
    *,
    focus: int | None = None,
) -> list[FindingView]:
    """What the viewer may do on each finding, in two queries whatever their number."""
    ids = {st.request_id for _, st in items if st.request_id}
    requests = {r.pk: r for r in ApprovalRequest.objects.filter(pk__in=ids).select_related("task")}
    user = request.user
    me = user.get_username()
    authored = services.authored_by(user)
    out = []
    for f, st in items:
        r = requests.get(st.request_id or 0)
        view = FindingView(finding=f, state=st, request=r, focus=bool(r and r.pk == focus))
        if r is not None:
            view.mine = services.is_owner(user, r, authored=authored)
            view.can_decide, view.why_not = services.can_decide(user, r, authored=authored)
            mine = [a.decision for a in st.approvals + st.rejections if a.reviewer == me]
            view.decided_by_me = mine[0] if mine else ""
            if st.decided in ("approved", "rejected") or view.decided_by_me:
                view.can_decide = False
        out.append(view)
    return out


def visible_plans(request: HttpRequest, qs: QuerySet[Plan]) -> QuerySet[Plan]:
    """A developer sees the plans they stored and those covering their tasks."""
    own_keys = Task.objects.filter(owner=request.user.pk).values("key")
    covering = PlanMigration.objects.filter(task_key__in=own_keys).values("plan_id")
    return scoped(request, qs, Q(author=request.user.pk) | Q(pk__in=covering))


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ["review_link", "created_at", "database_display", "counts", "author"]
    list_display_links = None
    list_filter = ["database", "selection"]
    list_select_related = ["author"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return visible_plans(request, super().get_queryset(request))

    @admin.display(description="migrations, findings, to review")
    def counts(self, obj: Plan) -> str:
        return f"{obj.migration_count} / {obj.finding_count} / {obj.review_count}"

    @admin.display(description="plan", ordering="id")
    def review_link(self, obj: Plan) -> SafeString:
        url = reverse("admin:dbgov_plan_review", args=[obj.pk])
        return format_html('<a href="{}">#{} review</a>', url, obj.pk)

    @admin.display(description="database", ordering="database")
    def database_display(self, obj: Plan) -> str:
        return f"{obj.database} ({obj.selection})"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:plan_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="dbgov_plan_review",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if object_id.isdigit():
            return HttpResponseRedirect(reverse("admin:dbgov_plan_review", args=[object_id]))
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request: HttpRequest, plan_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return denied(request, self._why_denied(request), site=self.admin_site)
        plan = self.get_queryset(request).select_related("author").filter(pk=plan_id).first()
        if plan is None:
            get_object_or_404(Plan, pk=plan_id)  # a 404 for what does not exist at all
            return denied(
                request,
                "This plan covers no task of yours; developers see the plans of their own tasks.",
                site=self.admin_site,
            )
        ops = (
            PlanOperation.objects.filter(plan=plan).select_related("migration").order_by("position")
        )
        page = Paginator(ops, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
        page_ops = list(page.object_list)
        findings = list(
            Finding.objects.filter(operation__in=page_ops).order_by("-severity_rank", "id")
        )
        loose: list[Finding] = []
        if page.number == 1:
            loose = list(Finding.objects.filter(plan=plan, operation__isnull=True))
        states = services.review_state(findings + loose)
        focus = request.GET.get("focus")
        views = decisions_for(
            request,
            [(f, states[f.fingerprint]) for f in findings + loose],
            focus=int(focus) if focus and focus.isdigit() else None,
        )
        if not can_approve(request):
            # Developers decide nothing: no "you may not" under every finding.
            for v in views:
                v.why_not = ""
        by_op: dict[int, list[FindingView]] = {}
        for v in views[: len(findings)]:
            by_op.setdefault(v.finding.operation_id or 0, []).append(v)
        rows = [
            {
                "op": op,
                "statements": [statement_view(s, op.migration.atomic) for s in op.statements],
                "findings": by_op.get(op.pk, []),
            }
            for op in page_ops
        ]
        severities = dict(
            Finding.objects.filter(plan=plan)
            .values_list("severity")
            .annotate(n=Count("id"))
            .values_list("severity", "n")
        )
        back = f"review:{plan.pk}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review of plan #{plan.pk}",
            "plan": plan,
            "page": page,
            "rows": rows,
            "loose": views[len(findings) :],
            "severities": sorted(severities.items()),
            "pygments_css": mark_safe(pygments_css()),
            "queue_url": reverse("admin:dbgov_approvalrequest_changelist"),
            "back": back,
            "sees_everything": sees_everything(request),
            # Tasks of the plan, for their Rehearse buttons (one query).
            "tasks": Task.objects.filter(
                key__in=PlanMigration.objects.filter(plan=plan).values("task_key")
            ).order_by("key"),
        }
        return TemplateResponse(request, "dbgov/admin/plan_review.html", context)
