"""The append-only logs: decisions (with the revoke action), audit events, the ledger."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from dbgov.governance import services
from dbgov.models import Approval, AuditEvent, Ledger

from .common import ReadOnlyAdmin, can_approve, scoped
from .queue import DecisionActionForm

__all__ = ["ApprovalAdmin", "AuditEventAdmin", "LedgerAdmin"]


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "decision", "reviewer", "request_display", "reason", "revoked"]
    list_filter = ["decision"]
    list_select_related = ["reviewer", "request", "revoked_by"]
    search_fields = ["fingerprint", "reason"]
    action_form = DecisionActionForm
    actions = ["revoke_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Approval]:
        own = Q(request__task__owner=request.user.pk) | Q(request__requested_by=request.user.pk)
        return scoped(request, super().get_queryset(request), own)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return can_approve(request)

    @admin.display(description="finding", ordering="request__rule_id")
    def request_display(self, obj: Approval) -> SafeString:
        r = obj.request
        return format_html("<strong>{}</strong><br><small>{}</small>", r.rule_id, r.migration_label)

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
            except DatabaseError as exc:  # a refusal of the database's own guards
                self.message_user(
                    request,
                    f"{approval.request}: refused: {str(exc).splitlines()[0]}",
                    messages.ERROR,
                )
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
    list_display = ["recorded_at", "database", "app_label", "name", "action", "sha256_display"]
    list_filter = ["database", "app_label", "action"]
    search_fields = ["name", "sha256"]

    @admin.display(description="sha256", ordering="sha256")
    def sha256_display(self, obj: Ledger) -> SafeString:
        # 64 hex digits push the other columns out of view; the prefix identifies, the title holds all
        return format_html('<code title="{}">{}…</code>', obj.sha256, obj.sha256[:12])
