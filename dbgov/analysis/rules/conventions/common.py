"""What several `conventions` rules share."""

from __future__ import annotations

from typing import Any


def setting(ctx: Any, key: str, default: Any) -> Any:
    value = ctx.plan.settings.get(key)
    return default if value is None else value


def bare_table(table: str | None) -> str:
    name = (table or "").replace('"', "").lower()
    return name.removeprefix("public.")
