"""What every dbgov admin page shares: SQL highlighting, the stylesheet, scoping to the
viewer's own tasks, and a 403 page in the admin's look."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString, mark_safe

from dbgov.governance import services
from dbgov.governance.roles import VIEW_ALL_PERMISSION

__all__ = [
    "DeskAdmin",
    "ReadOnlyAdmin",
    "can_approve",
    "denied",
    "highlight_sql",
    "own_task_q",
    "pygments_css",
    "sees_everything",
]

STYLESHEET = "dbgov/dbgov.css"


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


def can_approve(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(services.APPROVE_PERMISSION))


def sees_everything(request: HttpRequest) -> bool:
    """DBAs (and superusers) see every task; a developer sees their own."""
    return bool(request.user.has_perm(VIEW_ALL_PERMISSION))


def own_task_q(request: HttpRequest, prefix: str = "task__") -> Q:
    """Rows of tasks the viewer owns (``prefix`` leads from the model to its task)."""
    return Q(**{f"{prefix}owner": request.user.pk})


def denied(request: HttpRequest, reason: str = "", *, site: Any = None) -> HttpResponse:
    """The 403 page in the admin's look, saying why and what the viewer may do."""
    site = site or admin.site
    context = {
        **site.each_context(request),
        "title": "You may not see this page",
        "reason": reason,
    }
    return TemplateResponse(request, "dbgov/admin/403.html", context, status=403)


class DeskAdmin(admin.ModelAdmin):
    """Base of dbgov's ModelAdmins: the stylesheet, and 403s that look like the admin."""

    class Media:
        css = {"all": [STYLESHEET]}

    def _guard(self, view: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)  # type: ignore[no-any-return]
        except PermissionDenied as exc:
            return denied(request, str(exc) or self._why_denied(request), site=self.admin_site)

    def _why_denied(self, request: HttpRequest) -> str:
        opts = self.opts
        return (
            f"Viewing {opts.verbose_name_plural} needs the {opts.app_label}.view_"
            f"{opts.model_name} permission (the DBA and developer groups have it; "
            f"`manage.py dbgov roles`)."
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        return self._guard(super().changelist_view, request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return self._guard(super().change_view, request, object_id, form_url, extra_context)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return self._guard(super().add_view, request, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        return self._guard(super().delete_view, request, object_id, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        return self._guard(super().history_view, request, object_id, extra_context)


class ReadOnlyAdmin(DeskAdmin):
    """Records nobody edits through the admin (the database refuses it anyway)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def scoped(request: HttpRequest, qs: QuerySet[Any], own: Q) -> QuerySet[Any]:
    """``qs`` for a DBA, only the rows matching ``own`` for anybody else."""
    return qs if sees_everything(request) else qs.filter(own)
