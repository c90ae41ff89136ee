"""The measured throughput of schema work per server (read-only: rehearsals write it)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from ..analysis.risk.estimates import DEFAULT_RATES, UNITS
from ..models import Throughput


@admin.register(Throughput)
class ThroughputAdmin(admin.ModelAdmin):
    list_display = ("server", "kind", "rate", "overhead", "default", "samples", "updated_at")
    list_filter = ("server", "kind")
    fields = list_display
    readonly_fields = list_display

    @admin.display(description="throughput")
    def rate(self, obj: Throughput) -> str:
        fitted = obj.fitted()
        return f"{fitted.per_s:,.0f} {UNITS[obj.kind]}/s" if fitted else "-"

    @admin.display(description="overhead")
    def overhead(self, obj: Throughput) -> str:
        fitted = obj.fitted()
        return f"{fitted.overhead_s * 1000:.1f} ms" if fitted else "-"

    @admin.display(description="default")
    def default(self, obj: Throughput) -> str:
        d = DEFAULT_RATES[obj.kind]
        return f"{d.per_s:,.0f} {UNITS[obj.kind]}/s + {d.overhead_s * 1000:.0f} ms"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
