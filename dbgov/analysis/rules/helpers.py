"""Small readers over StatementFacts shared by the rule modules (no rules here)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..details import AlterCommand, AlterTableDetail, ColumnDef, ConstraintDef, CreateTableDetail
from ..model import StatementFacts


def commands(facts: StatementFacts, *actions: str) -> Iterator[AlterCommand]:
    """The ALTER TABLE subcommands of ``facts`` (only ``actions`` when given)."""
    alter = facts.detail(AlterTableDetail)
    for cmd in alter.commands if alter else ():
        if not actions or cmd.action in actions:
            yield cmd


def target(facts: StatementFacts) -> str | None:
    """The relation a statement is about (its first table)."""
    return facts.details.table or (facts.tables[0] if facts.tables else None)


def added_columns(facts: StatementFacts) -> Iterator[ColumnDef]:
    """Columns a statement adds: CREATE TABLE columns and ALTER TABLE ADD COLUMN."""
    created = facts.detail(CreateTableDetail)
    if created:
        yield from created.columns
    for cmd in commands(facts, "ADD COLUMN"):
        if cmd.column:
            yield cmd.column


def new_constraints(facts: StatementFacts) -> Iterator[ConstraintDef]:
    """Constraints a statement adds (CREATE TABLE, ADD CONSTRAINT, inline REFERENCES)."""
    created = facts.detail(CreateTableDetail)
    if created:
        yield from created.constraints
    for cmd in commands(facts, "ADD COLUMN"):
        col = cmd.column
        if col is None:
            continue
        if col.references:
            yield col.references
        if col.primary_key:
            yield ConstraintDef(type="PRIMARY KEY", columns=(col.name,))
        if col.unique:
            yield ConstraintDef(type="UNIQUE", columns=(col.name,))
    for cmd in commands(facts):
        if cmd.action.startswith("ADD CONSTRAINT") and cmd.constraint:
            yield cmd.constraint


def type_base(type_sql: str | None) -> str:
    """'varchar(20)' → 'varchar'; 'timestamp with time zone' stays; lower case."""
    if not type_sql:
        return ""
    base = type_sql.lower().split("(", 1)[0].strip()
    if type_sql.lower().endswith("with time zone") and "(" in type_sql:
        base += " with time zone"
    return base.removesuffix("[]")


# A candidate for a name over 63 bytes: 16+ characters (4 bytes each at most in UTF-8),
# quoted ones with their doubled quotes; the scanner decides.
_LONG_WORD = re.compile(r'[^\s"(),;.]{16,}|"(?:[^"]|""){16,}"')


def long_identifiers(sql: str, limit: int = 63) -> list[str]:
    """Identifiers longer than ``limit`` bytes (PostgreSQL truncates them): counted in
    UTF-8 bytes as PostgreSQL does, a quoted name with its ``""`` read as one quote."""
    if len(sql) <= limit // 4 or not _LONG_WORD.search(sql):
        return []
    from pglast import parser

    found: list[str] = []
    try:
        tokens = parser.scan(sql)  # offsets in characters of ``sql``
    except Exception:
        return []
    for tok in tokens:
        if tok.name != "IDENT" or tok.end - tok.start + 1 < 16:
            continue
        text = sql[tok.start : tok.end + 1]
        name = text[1:-1].replace('""', '"') if text.startswith('"') else text.lower()
        if len(name.encode("utf-8")) > limit and name not in found:
            found.append(name)
    return found
