"""The SQL facts' schema lookups (schema.Schema), answered from the target's snapshot.

The plan reads the target's schema from its catalog anyway (it keys the sandbox's
templates); the same snapshot answers what the SQL alone cannot say: a column's current
type, a user function's volatility, which constraints are foreign keys and what they
reference, what an index belongs to, what a relation is. These are the facts at the
start of the plan: a pending migration that changes them is described by Django's own
operation details (the old type of an AlterField, say).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..sandbox.snapshot import SchemaSnapshot
from .schema import ForeignKey, Schema

__all__ = ["schema_from_snapshot"]

_FK = re.compile(
    r"FOREIGN KEY \((?P<cols>[^)]*)\) REFERENCES (?P<table>[^\s(]+)\s*\((?P<refcols>[^)]*)\)"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)
_ON_DELETE = re.compile(r"ON DELETE (CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION)", re.I)


def _bare(name: str) -> str:
    """``"public"."Foo"`` and ``public.foo`` compare as ``foo``; other schemas stay."""
    text = name.replace('"', "").lower().strip()
    return text[len("public.") :] if text.startswith("public.") else text


def _qualified(schema: str, name: str) -> str:
    return _bare(f"{schema}.{name}")


def _columns(text: str) -> tuple[str, ...]:
    return tuple(_bare(c) for c in text.split(",") if c.strip())


def schema_from_snapshot(
    snapshot: SchemaSnapshot, *, major: int | None, timezone_utc: bool | None
) -> Schema:
    columns: dict[tuple[str, str], str] = {}
    kinds: dict[str, str] = {}
    for table in snapshot.tables:
        name = _qualified(table.schema, table.name)
        kinds[name] = table.kind
        for column in table.columns:
            columns[(name, column.name.lower())] = column.type
    index_table: dict[str, str] = {}
    for index in snapshot.indexes:
        index_name = _qualified(index.schema, index.name)
        index_table[index_name] = _qualified(index.schema, index.table)
        kinds[index_name] = "i"
    foreign_keys: dict[str, dict[str, ForeignKey]] = {}
    referenced_by: dict[str, set[str]] = {}
    for constraint in snapshot.constraints:
        if constraint.type != "f":
            continue
        match = _FK.search(constraint.definition)
        if not match:
            continue
        owner = _qualified(constraint.schema, constraint.table)
        referenced = _bare(match["table"])
        on_delete = _ON_DELETE.search(match["rest"])
        foreign_keys.setdefault(owner, {})[constraint.name] = ForeignKey(
            referenced_table=referenced,
            columns=_columns(match["cols"]),
            on_delete=on_delete.group(1).upper() if on_delete else "NO ACTION",
        )
        referenced_by.setdefault(referenced, set()).add(owner)
    volatility: dict[str, str] = {}
    domains: dict[str, tuple[str, bool]] = {}
    for obj in snapshot.objects:
        if obj.kind == "function":
            # "schema.name(args)": "f v boolean plpgsql <md5>" (prokind provolatile …)
            name = _bare(obj.name.split("(", 1)[0])
            parts = obj.definition.split()
            if len(parts) >= 2:
                code = parts[1]
                # Overloads: the most volatile one answers (the safe side).
                if _rank(code) > _rank(volatility.get(name)):
                    volatility[name] = code
                    volatility[name.rsplit(".", 1)[-1]] = code
        elif obj.kind == "sequence":
            kinds[_bare(obj.name)] = "S"
        elif obj.kind == "type":
            # "kind | enum labels | domain base type | composite attributes | constraints"
            parts = (obj.definition.split(" | ") + [""] * 5)[:5]
            if parts[0] == "d":
                base = parts[2].strip()
                checked = bool(parts[4].strip()) or base.endswith(" NOT NULL")
                base = base.removesuffix(" NOT NULL")
                for name in (_bare(obj.name), _bare(obj.name).rsplit(".", 1)[-1]):
                    domains[name] = (base, checked)

    def column_type(table: str, column: str) -> str | None:
        return columns.get((_bare(table), _bare(column)))

    def fks(table: str) -> Mapping[str, ForeignKey] | None:
        return foreign_keys.get(_bare(table), {}) if _bare(table) in kinds else None

    def refs(table: str) -> tuple[str, ...] | None:
        return tuple(sorted(referenced_by.get(_bare(table), ()))) if _bare(table) in kinds else None

    def function_volatility(name: str) -> str | None:
        return volatility.get(_bare(name))

    def domain_base(name: str) -> str | None:
        found = domains.get(_bare(name))
        return found[0] if found else None

    def constrained_domain(name: str) -> bool | None:
        found = domains.get(_bare(name))
        return found[1] if found else None

    return Schema(
        function_volatility=function_volatility,
        column_type=column_type,
        index_table=lambda name: index_table.get(_bare(name)),
        foreign_keys=fks,
        referenced_by=refs,
        constrained_domain=constrained_domain,
        domain_base=domain_base,
        relation_kind=lambda name: kinds.get(_bare(name)),
        timezone_utc=timezone_utc,
        major=major,
    )


def _rank(code: str | None) -> int:
    return {"i": 0, "s": 1, "v": 2}.get(code or "", -1)
