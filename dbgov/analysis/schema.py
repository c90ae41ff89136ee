"""What the SQL alone does not say: facts about the database a statement runs on.

Some facts depend on the schema, not on the statement: whether ``ALTER COLUMN … TYPE
varchar(20)`` rewrites depends on the column's current type, whether a default is
volatile depends on its functions' ``pg_proc.provolatile``, whether dropping a
constraint also locks another table depends on it being a foreign key. The SQL facts
(``dbgov.analysis.sql``) ask a :class:`Schema` for these; every lookup may answer None
("unknown") and the facts then stay on the safe side and say so.

- :data:`BUILTIN` answers function volatility for PostgreSQL's built-in functions from
  ``data/pg_volatility.json`` (generated from PostgreSQL 15 and 18's ``pg_proc`` by
  ``scripts/gen_pg_volatility.py``; a test compares it with live servers).
- The plan engine builds a Schema from its sandbox (which holds the target's schema,
  user-defined functions included); the oracle tests build one from their fixture.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

__all__ = ["BUILTIN", "ForeignKey", "Schema", "builtin_volatility"]


class ForeignKey(NamedTuple):
    referenced_table: str
    columns: tuple[str, ...]
    on_delete: str = "NO ACTION"  # CASCADE / SET NULL / SET DEFAULT write the referencing rows


DATA = Path(__file__).parent / "data" / "pg_volatility.json"

# pg_proc.provolatile: 'i' immutable, 's' stable, 'v' volatile
Volatility = str


@functools.cache
def _volatility_table() -> Mapping[int, Mapping[str, str]]:
    raw = json.loads(DATA.read_text())
    table: dict[int, dict[str, str]] = {}
    for major, groups in raw["versions"].items():
        table[int(major)] = {name: code for code, names in groups.items() for name in names}
    return table


def builtin_volatility(name: str, major: int | None = None) -> Volatility | None:
    """``pg_proc.provolatile`` of a built-in function (the most volatile of its
    overloads) on the nearest known major version; None for unknown functions."""
    bare = name.lower().replace('"', "")
    schema, _, bare = bare.rpartition(".")
    if schema not in ("", "pg_catalog"):
        return None  # a user-defined function: only the sandbox knows it
    table = _volatility_table()
    versions = sorted(table)
    if major is not None:
        # the nearest version at or below, then the ones above
        versions = sorted(versions, key=lambda v: (v > major, abs(v - major)))
    for version in versions:
        found = table[version].get(bare)
        if found is not None:
            return found
    return None


@dataclass(frozen=True, eq=False)  # hashed by identity: facts are cached per schema
class Schema:
    """Lookups into the database a statement will run on; each may answer None."""

    # qualified or bare function name → 'i' / 's' / 'v' (pg_proc.provolatile)
    function_volatility: Callable[[str], Volatility | None] | None = None
    # (table, column) → its type as format_type() writes it, e.g. "character varying(10)"
    column_type: Callable[[str, str], str | None] | None = None
    # index name → the table it indexes
    index_table: Callable[[str], str | None] | None = None
    # table → {constraint name: ForeignKey} of the foreign keys declared on it
    foreign_keys: Callable[[str], Mapping[str, ForeignKey] | None] | None = None
    # table → the partitioned table it is a partition of
    partition_parent: Callable[[str], str | None] | None = None
    # table → the tables whose foreign keys reference it
    referenced_by: Callable[[str], tuple[str, ...] | None] | None = None
    # type name → whether it is a domain with constraints (a column of it is checked)
    constrained_domain: Callable[[str], bool | None] | None = None
    # type name → the base type of a domain (None: not a domain, or unknown)
    domain_base: Callable[[str], str | None] | None = None
    # relation name → pg_class.relkind ('r' table, 'p' partitioned table, 'i' index …)
    relation_kind: Callable[[str], str | None] | None = None
    # whether the migrating session's TimeZone is UTC (timestamp ↔ timestamptz changes
    # rewrite otherwise); Django sets UTC when USE_TZ is on
    timezone_utc: bool | None = None
    major: int | None = None  # the server's major version (for the built-in data)

    def volatility(self, name: str) -> Volatility | None:
        if self.function_volatility is not None:
            found = self.function_volatility(name)
            if found is not None:
                return found
        return builtin_volatility(name, self.major)


BUILTIN = Schema()
