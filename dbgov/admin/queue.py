"""The approval queue, the request page and the decision view.

A decision is recorded by ``services.decide`` whatever page it comes from (the request
page, the review page's inline forms, the bulk actions): permissions, four eyes and
the audit log are the service's. After a decision the reviewer lands on the next open
finding they may decide, on the page they came from.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from dbgov.governance import services
from dbgov.models import Approval, ApprovalRequest, PlanOperation
from dbgov.templatetags.dbgov_desk import fact_badge, severity_badge, status_badge

from .common import ReadOnlyAdmin, can_approve, denied, highlight_sql, pygments_css, scoped
from .plans import REVIEW_PAGE_SIZE, decisions_for, statement_view

__all__ = ["ApprovalRequestAdmin", "DecisionActionForm", "DecisionForm"]


class DecisionActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        label="Reason for the decision",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "required to approve or reject"}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")])
    reason = forms.CharField(
        label="Reason for your decision",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )
    back = forms.CharField(required=False, widget=forms.HiddenInput)

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


def applied_migrations() -> set[tuple[str, str]]:
    """What the default database has applied now (one query)."""
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections["default"])
    return set(recorder.applied_migrations()) if recorder.has_table() else set()


class QueueChangeList(ChangeList):
    """Adds each row's review state, ownership and applied state in three queries."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        states = services.review_state(self.result_list)
        applied = applied_migrations()
        authored = services.authored_by(request.user)
        for obj in self.result_list:
            obj.review = states[obj.fingerprint]
            obj.mine = services.is_owner(request.user, obj, authored=authored)
            obj.applied_unapproved = (
                obj.app_label,
                obj.migration_name,
            ) in applied and obj.status in (
                ApprovalRequest.Status.OPEN,
                ApprovalRequest.Status.REJECTED,
            )


def next_open(
    request: HttpRequest, *, after: ApprovalRequest, plan_id: int | None = None
) -> ApprovalRequest | None:
    """The next open request the viewer may decide: in queue order, or within a plan."""
    qs = (
        ApprovalRequest.objects.filter(status=ApprovalRequest.Status.OPEN)
        .exclude(pk=after.pk)
        .exclude(requested_by=request.user.pk)
        .exclude(task__owner=request.user.pk)
        .exclude(approvals__reviewer=request.user.pk)
        .order_by("-severity_rank", "created_at", "id")
    )
    if plan_id is not None:
        from dbgov.models import Finding

        qs = qs.filter(
            fingerprint__in=Finding.objects.filter(plan_id=plan_id).values("fingerprint")
        )
    return qs.first()


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "severity_display",
        "finding_display",
        "task_display",
        "review_display",
        "status_display",
    ]
    list_display_links = ["finding_display"]
    list_filter = [QueueStatusFilter, "severity", "task", "app_label"]
    list_select_related = ["task"]
    search_fields = ["rule_id", "migration_name", "fingerprint", "task__key"]
    ordering = ["-severity_rank", "created_at"]
    action_form = DecisionActionForm
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "dbgov/admin/approvalrequest/change_form.html"
    fieldsets = [
        (
            "The stored record",
            {
                "classes": ["collapse"],
                "fields": [
                    ("status", "severity", "severity_rank"),
                    ("rule_id", "task"),
                    ("app_label", "migration_name", "operation_index"),
                    ("path", "line"),
                    ("lock", "rewrites", "scans"),
                    "fingerprint",
                    "slot",
                    ("plan", "requested_by"),
                    ("created_at", "updated_at"),
                ],
            },
        )
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApprovalRequest]:
        own = Q(task__owner=request.user.pk) | Q(requested_by=request.user.pk)
        return scoped(request, super().get_queryset(request), own)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QueueChangeList

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return can_approve(request)

    @admin.display(description="severity", ordering="-severity_rank")
    def severity_display(self, obj: ApprovalRequest) -> SafeString:
        return severity_badge(obj.severity)

    @admin.display(description="finding", ordering="rule_id")
    def finding_display(self, obj: ApprovalRequest) -> SafeString:
        op = "" if obj.operation_index is None else f" #{obj.operation_index}"
        return format_html(
            "<strong>{}</strong><br><small>{}{} · {} old</small>",
            obj.rule_id,
            obj.migration_label,
            op,
            self.age(obj),
        )

    @admin.display(description="task", ordering="task__key")
    def task_display(self, obj: ApprovalRequest) -> SafeString | str:
        if obj.task is None:
            return "—"
        return format_html('<span title="{}">{}</span>', obj.task.title, obj.task.key)

    @admin.display(description="review")
    def review_display(self, obj: ApprovalRequest) -> SafeString:
        st = getattr(obj, "review", None)
        parts: list[Any] = []
        if st is not None:
            parts.append(format_html("{}/{} approvals", len(st.approvals), st.needed))
            if st.stale:
                parts.append(fact_badge("stale", f"({len(st.stale)})"))
        if getattr(obj, "mine", False):
            parts.append(fact_badge("mine"))
        if getattr(obj, "applied_unapproved", False):
            parts.append(fact_badge("applied-unapproved"))
        return format_html(
            '<span class="dbgov-markers">{}</span>',
            format_html_join(mark_safe(" "), "{}", ((p,) for p in parts)),
        )

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: ApprovalRequest) -> SafeString:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: ApprovalRequest) -> str:
        return timesince(obj.created_at, timezone.now(), depth=1)

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

    def _back_to(self, request: HttpRequest, r: ApprovalRequest, back: str) -> str:
        """Where the reviewer continues: the next open finding they may decide."""
        if back.startswith("review:") and back[7:].isdigit():
            plan_id = int(back[7:])
            nxt = next_open(request, after=r, plan_id=plan_id)
            url = reverse("admin:dbgov_plan_review", args=[plan_id])
            if nxt is None:
                return url
            from dbgov.models import Finding

            f = (
                Finding.objects.filter(plan_id=plan_id, fingerprint=nxt.fingerprint)
                .select_related("operation")
                .first()
            )
            position = f.operation.position if f is not None and f.operation else 0
            page = position // REVIEW_PAGE_SIZE + 1
            # No #fragment: browsers skip autofocus when the URL targets an element;
            # focusing the reason field scrolls the finding into view anyway.
            return f"{url}?page={page}&focus={nxt.pk}"
        nxt = next_open(request, after=r)
        if nxt is None:
            return reverse("admin:dbgov_approvalrequest_changelist")
        return reverse("admin:dbgov_approvalrequest_change", args=[nxt.pk])

    def decide_view(self, request: HttpRequest, request_id: int) -> HttpResponse:
        if not can_approve(request):
            return denied(
                request,
                "Deciding on findings needs the dbgov.approve_finding permission.",
                site=self.admin_site,
            )
        r = get_object_or_404(ApprovalRequest, pk=request_id)
        form = DecisionForm(request.POST)
        back = request.POST.get("back", "")
        here = (
            reverse("admin:dbgov_plan_review", args=[back[7:]]) + f"?focus={r.pk}#finding-{r.pk}"
            if back.startswith("review:") and back[7:].isdigit()
            else reverse("admin:dbgov_approvalrequest_change", args=[r.pk])
        )
        if not form.is_valid():
            for errors in form.errors.values():
                for e in errors:
                    self.message_user(request, str(e), messages.ERROR)
            return HttpResponseRedirect(here)
        decision = form.cleaned_data["decision"]
        try:
            services.decide(
                r, user=request.user, decision=decision, reason=form.cleaned_data["reason"]
            )
        except services.GovernanceError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(here)
        self.message_user(request, f"{decision.capitalize()}: {r}.", messages.SUCCESS)
        return HttpResponseRedirect(self._back_to(request, r, back))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        r = self.get_object(request, object_id)
        if (
            r is None
            and object_id.isdigit()
            and ApprovalRequest.objects.filter(pk=object_id).exists()
        ):
            return denied(
                request,
                "This finding belongs to a task you do not own; developers see the findings "
                "of their own tasks.",
                site=self.admin_site,
            )
        extra = dict(extra_context or {})
        if r is not None:
            state = services.review_state([r])[r.fingerprint]
            (view,) = decisions_for(request, [(r, state)])
            op = None
            if r.plan_id is not None and r.operation_index is not None:
                op = (
                    PlanOperation.objects.filter(
                        plan_id=r.plan_id,
                        migration__app_label=r.app_label,
                        migration__name=r.migration_name,
                        index=r.operation_index,
                    )
                    .select_related("migration")
                    .first()
                )
            extra.update(
                dbgov_view=view,
                dbgov_state=state,
                dbgov_history=list(Approval.objects.filter(request=r).select_related("reviewer")),
                dbgov_can_decide=view.can_decide,
                dbgov_why_not=view.why_not
                or ("You already decided on this finding." if view.decided_by_me else ""),
                dbgov_form=DecisionForm(initial={"back": "queue"}),
                dbgov_decide_url=reverse("admin:dbgov_approvalrequest_decide", args=[r.pk]),
                dbgov_statements=[statement_view(s, op.migration.atomic) for s in op.statements]
                if op is not None
                else [],
                dbgov_sql=highlight_sql(r.sql) if r.sql and op is None else "",
                dbgov_review_url=reverse("admin:dbgov_plan_review", args=[r.plan_id])
                + f"?focus={r.pk}#finding-{r.pk}"
                if r.plan_id
                else "",
                pygments_css=mark_safe(pygments_css()),
                title=f"{r.rule_id} on {r.migration_label or 'the project'}",
            )
        return super().change_view(request, object_id, form_url, extra)
