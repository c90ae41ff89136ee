"""dbgov in the Django admin: tasks, plan review, the approval queue, audit log.

Extends django.contrib.admin (custom pages through ``get_urls`` + ``admin_view``,
templates extending the admin's own); every page's query count is independent of
the number of findings (tests/governance/test_admin.py).
"""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from .governance import services
from .models import (
    Approval,
    ApprovalRequest,
    AuditEvent,
    Finding,
    Ledger,
    Plan,
    PlanMigration,
    PlanOperation,
    Task,
)

REVIEW_PAGE_SIZE = 25


# --------------------------------------------------------------------------- helpers


@functools.cache
def _highlighter() -> tuple[Any, Any]:
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PostgresLexer

    # Building a lexer costs ~1 ms (regex compilation); one instance serves every page.
    return PostgresLexer(), HtmlFormatter(cssclass="dbgov-sql")


def highlight_sql(sql: str) -> SafeString:
    """Server-side SQL highlighting with Pygments (PostgreSQL lexer)."""
    from pygments import highlight

    lexer, formatter = _highlighter()
    return mark_safe(highlight(sql, lexer, formatter))


@functools.cache
def pygments_css() -> str:
    return str(_highlighter()[1].get_style_defs(".dbgov-sql"))


def severity_badge(severity: str) -> SafeString:
    return format_html('<span class="dbgov-badge dbgov-sev-{}">{}</span>', severity, severity)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits through the admin (the database refuses it anyway)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _can_approve(request: HttpRequest) -> bool:
    return request.user.has_perm(services.APPROVE_PERMISSION)


# --------------------------------------------------------------------------- tasks


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "status", "owner", "open_findings"]
    list_filter = ["status"]
    search_fields = ["key", "title"]
    list_select_related = ["owner"]
    readonly_fields = ["status", "created_at", "updated_at"]
    change_form_template = "dbgov/admin/task/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_open=Count(
                    "approval_requests",
                    filter=Q(approval_requests__status__in=["open", "rejected"]),
                )
            )
        )

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.audit(
            "task.changed" if change else "task.created",
            actor=request.user,
            subject=obj.key,
            data={"fields": sorted(form.changed_data)},
        )

    @admin.display(description="open findings", ordering="n_open")
    def open_findings(self, obj: Task) -> int:
        return getattr(obj, "n_open", 0)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        task = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if task is not None:
            migrations = list(
                PlanMigration.objects.filter(task_key=task.key)
                .order_by("app_label", "name", "-plan_id")
                .distinct("app_label", "name")
            )
            requests = list(
                ApprovalRequest.objects.filter(task=task).order_by("-severity_rank", "created_at")
            )
            states = services.review_state(requests)
            extra.update(
                dbgov_migrations=migrations,
                dbgov_requests=[(r, states[r.fingerprint]) for r in requests],
            )
        return super().change_view(request, object_id, form_url, extra)


# --------------------------------------------------------------------------- plans


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "database",
        "selection",
        "migration_count",
        "finding_count",
        "review_count",
        "author",
        "review_link",
    ]
    list_filter = ["database", "selection"]
    list_select_related = ["author"]

    @admin.display(description="review")
    def review_link(self, obj: Plan) -> str:
        url = reverse("admin:dbgov_plan_review", args=[obj.pk])
        return format_html('<a href="{}">Review page</a>', url)

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
            raise PermissionDenied
        plan = get_object_or_404(Plan.objects.select_related("author"), pk=plan_id)
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
        by_op: dict[int, list[tuple[Finding, services.ReviewState]]] = {}
        for f in findings:
            by_op.setdefault(f.operation_id or 0, []).append((f, states[f.fingerprint]))
        rows = []
        for op in page_ops:
            rows.append(
                {
                    "op": op,
                    "statements": [
                        {**s, "html": highlight_sql(s.get("sql", ""))} for s in op.statements
                    ],
                    "findings": by_op.get(op.pk, []),
                }
            )
        severities = dict(
            Finding.objects.filter(plan=plan)
            .values_list("severity")
            .annotate(n=Count("id"))
            .values_list("severity", "n")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review of plan #{plan.pk}",
            "plan": plan,
            "page": page,
            "rows": rows,
            "loose": [(f, states[f.fingerprint]) for f in loose],
            "severities": sorted(severities.items()),
            "pygments_css": mark_safe(pygments_css()),
            "queue_url": reverse("admin:dbgov_approvalrequest_changelist"),
            # Tasks of the plan, for their Rehearse buttons (one query).
            "tasks": Task.objects.filter(
                key__in=PlanMigration.objects.filter(plan=plan).values("task_key")
            ).order_by("key"),
        }
        return TemplateResponse(request, "dbgov/admin/plan_review.html", context)


# --------------------------------------------------------------------------- approval queue


class DecisionActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        label="Reason",
        widget=forms.TextInput(attrs={"size": 50, "placeholder": "required for a decision"}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A decision needs a reason.")
        return reason


class QueueStatusFilter(admin.SimpleListFilter):
    """The queue opens on what waits for a decision; "All" shows every request."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*ApprovalRequest.Status.choices, ("all", "All")]

    def value(self) -> str:
        return super().value() or ApprovalRequest.Status.OPEN

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset if value == "all" else queryset.filter(status=value)

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class QueueChangeList(ChangeList):
    """Adds each row's review state, computed for the whole page in two queries."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        states = services.review_state(self.result_list)
        for obj in self.result_list:
            obj.review = states[obj.fingerprint]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "severity_display",
        "rule_id",
        "migration_display",
        "task",
        "age",
        "approvals_display",
        "stale_display",
        "status",
    ]
    list_display_links = ["rule_id"]
    list_filter = [QueueStatusFilter, "severity", "task", "app_label"]
    list_select_related = ["task"]
    search_fields = ["rule_id", "migration_name", "fingerprint", "task__key"]
    ordering = ["-severity_rank", "created_at"]
    action_form = DecisionActionForm
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "dbgov/admin/approvalrequest/change_form.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QueueChangeList

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return _can_approve(request)

    @admin.display(description="severity", ordering="-severity_rank")
    def severity_display(self, obj: ApprovalRequest) -> SafeString:
        return severity_badge(obj.severity)

    @admin.display(description="migration", ordering="migration_name")
    def migration_display(self, obj: ApprovalRequest) -> str:
        op = "" if obj.operation_index is None else f" #{obj.operation_index}"
        return f"{obj.migration_label}{op}"

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: ApprovalRequest) -> str:
        return timesince(obj.created_at, timezone.now())

    @admin.display(description="approvals")
    def approvals_display(self, obj: ApprovalRequest) -> str:
        st = getattr(obj, "review", None)
        return f"{len(st.approvals)}/{st.needed}" if st else ""

    @admin.display(description="stale approvals")
    def stale_display(self, obj: ApprovalRequest) -> SafeString | str:
        st = getattr(obj, "review", None)
        if not st or not st.stale:
            return ""
        return format_html('<span class="dbgov-stale">{} stale</span>', len(st.stale))

    def _decide_many(
        self, request: HttpRequest, queryset: QuerySet[ApprovalRequest], decision: str
    ) -> None:
        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            self.message_user(request, "A decision needs a reason.", messages.ERROR)
            return
        done, refused = 0, []
        for r in queryset.order_by("-severity_rank", "created_at"):
            try:
                services.decide(r, user=request.user, decision=decision, reason=reason)
                done += 1
            except (services.GovernanceError, PermissionDenied) as exc:
                refused.append(str(exc))
        if done:
            self.message_user(request, f"{decision.capitalize()} {done} finding(s).")
        for msg in refused:
            self.message_user(request, msg, messages.WARNING)

    @admin.action(
        permissions=["approve"], description="Approve selected findings (reason required)"
    )
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest]) -> None:
        self._decide_many(request, queryset, "approved")

    @admin.action(permissions=["approve"], description="Reject selected findings (reason required)")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest]) -> None:
        self._decide_many(request, queryset, "rejected")

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:request_id>/decide/",
                self.admin_site.admin_view(require_POST(self.decide_view)),
                name="dbgov_approvalrequest_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, request_id: int) -> HttpResponse:
        if not _can_approve(request):
            raise PermissionDenied
        r = get_object_or_404(ApprovalRequest, pk=request_id)
        url = reverse("admin:dbgov_approvalrequest_change", args=[r.pk])
        form = DecisionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for e in errors:
                    self.message_user(request, str(e), messages.ERROR)
            return HttpResponseRedirect(url)
        try:
            services.decide(
                r,
                user=request.user,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except services.GovernanceError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(url)
        self.message_user(request, f"{form.cleaned_data['decision'].capitalize()}: {r}.")
        return HttpResponseRedirect(reverse("admin:dbgov_approvalrequest_changelist"))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        r = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if r is not None:
            state = services.review_state([r])[r.fingerprint]
            allowed, why = services.can_decide(request.user, r)
            extra.update(
                dbgov_state=state,
                dbgov_history=list(Approval.objects.filter(request=r).select_related("reviewer")),
                dbgov_can_decide=allowed,
                dbgov_why_not=why,
                dbgov_form=DecisionForm(),
                dbgov_decide_url=reverse("admin:dbgov_approvalrequest_decide", args=[r.pk]),
                dbgov_sql=highlight_sql(r.sql) if r.sql else "",
                pygments_css=mark_safe(pygments_css()),
            )
        return super().change_view(request, object_id, form_url, extra)


# --------------------------------------------------------------------------- logs


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "decision", "reviewer", "request", "reason", "revoked"]
    list_filter = ["decision"]
    list_select_related = ["reviewer", "request", "revoked_by"]
    search_fields = ["fingerprint", "reason"]
    action_form = DecisionActionForm
    actions = ["revoke_selected"]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return _can_approve(request)

    @admin.display(description="revoked", boolean=True)
    def revoked(self, obj: Approval) -> bool:
        return hasattr(obj, "revoked_by")

    @admin.action(
        permissions=["approve"], description="Revoke selected approvals (reason required)"
    )
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Approval]) -> None:
        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            self.message_user(request, "A revocation needs a reason.", messages.ERROR)
            return
        done = 0
        for approval in queryset.filter(decision=Approval.Decision.APPROVED):
            try:
                services.revoke(approval, user=request.user, reason=reason)
                done += 1
            except (services.GovernanceError, PermissionDenied) as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if done:
            self.message_user(request, f"Revoked {done} approval(s).")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor_name", "subject", "reason"]
    list_filter = ["action"]
    search_fields = ["subject", "reason", "actor_name"]
    date_hierarchy = "created_at"


@admin.register(Ledger)
class LedgerAdmin(ReadOnlyAdmin):
    list_display = ["recorded_at", "database", "app_label", "name", "action", "sha256"]
    list_filter = ["database", "app_label", "action"]
    search_fields = ["name", "sha256"]


# The rehearsal admin (runs, query patterns, the Rehearse button) registers itself;
# imported last so that the TaskAdmin above is the one registered.
from dbgov.explain import admin as explain_admin  # noqa: E402, F401
