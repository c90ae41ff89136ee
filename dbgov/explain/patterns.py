"""The query-pattern registry: the named queries indexes are justified by.

Declare patterns in code, in a module ``dbgov_queries`` of any installed app (the
module name is DBGOV["QUERY_PATTERN_MODULE"]) holding a list ``QUERIES``::

    # shop/dbgov_queries.py
    from dbgov.explain.patterns import Query

    QUERIES = [
        Query(
            name="user order history",
            sql="SELECT id, status, total, created_at FROM shop_orders "
            "WHERE user_id = %(user_id)s ORDER BY created_at DESC LIMIT 20",
            params={"user_id": 42},
        ),
    ]

or in the admin (``QueryPattern``); an admin row overrides a code pattern of the same
name. Parameters use the ``%(name)s`` style. EXPLAIN always runs a pattern inside a
transaction that is rolled back, so data-modifying patterns (UPDATE …) are safe.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps

from dbgov.conf import dbgov_settings

__all__ = ["Query", "PatternError", "all_patterns", "code_patterns", "get_pattern", "sql_tables"]

_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s")


class PatternError(Exception):
    """A query pattern module or row is malformed."""


@dataclass(frozen=True)
class Query:
    """A named query with sample parameters."""

    name: str
    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = ""  # "app_label.dbgov_queries" or "admin"

    @cached_property
    def tables(self) -> frozenset[str]:
        """Unqualified names of the tables the SQL reads or writes ("" if unparsable)."""
        return sql_tables(self.sql)

    @cached_property
    def modifies_data(self) -> bool:
        return _statement_kind(self.sql) in {"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"}


def _parse(sql: str) -> Any:
    import pglast

    return pglast.parse_sql(_PLACEHOLDER.sub("NULL", sql))


def sql_tables(sql: str) -> frozenset[str]:
    """The relation names an SQL text mentions (via PostgreSQL's own parser, pglast)."""
    from pglast.visitors import Visitor

    try:
        tree = _parse(sql)
    except Exception:
        return frozenset()
    names: set[str] = set()

    class _Tables(Visitor):  # type: ignore[misc]
        def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
            names.add(node.relname)

    _Tables()(tree)
    return frozenset(names)


def _statement_kind(sql: str) -> str:
    try:
        tree = _parse(sql)
    except Exception:
        return ""
    return type(tree[0].stmt).__name__ if tree else ""


def _coerce(obj: Any, source: str) -> Query:
    if isinstance(obj, Query):
        return Query(obj.name, obj.sql, dict(obj.params), obj.description, source)
    if isinstance(obj, Mapping) and {"name", "sql"} <= set(obj):
        return Query(
            str(obj["name"]),
            str(obj["sql"]),
            dict(obj.get("params") or {}),
            str(obj.get("description", "")),
            source,
        )
    raise PatternError(f"{source}: QUERIES entries must be Query(...) or dicts with name and sql.")


def code_patterns() -> list[Query]:
    """Patterns declared in ``<app>/<QUERY_PATTERN_MODULE>.py`` of the installed apps."""
    module_name = dbgov_settings.QUERY_PATTERN_MODULE
    found: dict[str, Query] = {}
    for config in apps.get_app_configs():
        dotted = f"{config.name}.{module_name}"
        try:
            module = importlib.import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name == dotted:
                continue
            raise
        entries: Iterable[Any] = getattr(module, "QUERIES", None) or []
        for entry in entries:
            query = _coerce(entry, dotted)
            if query.name in found:
                raise PatternError(
                    f"Query pattern {query.name!r} is declared twice: in "
                    f"{found[query.name].source} and in {dotted}."
                )
            found[query.name] = query
    return list(found.values())


def all_patterns() -> dict[str, Query]:
    """Code patterns, overridden by admin rows of the same name."""
    from dbgov.models import QueryPattern

    registry = {q.name: q for q in code_patterns()}
    for row in QueryPattern.objects.all():
        registry[row.name] = Query(
            row.name, row.sql, dict(row.params or {}), row.description, "admin"
        )
    return registry


def pattern_names() -> frozenset[str]:
    """Names the index-justification rule resolves ``dbgov_index_purpose`` against
    (the default ``DBGOV["QUERY_PATTERN_NAMES"]``)."""
    from django.db import DatabaseError

    try:
        return frozenset(all_patterns())
    except DatabaseError:  # dbgov's tables not migrated yet: the code registry alone
        return frozenset(q.name for q in code_patterns())


def get_pattern(name: str) -> Query | None:
    return all_patterns().get(name)
