"""Typed statement details: what PostgreSQL's parse tree says beyond the common facts.

``StatementFacts.details`` is one of these dataclasses, by statement family (the model
is pglast's own node classes: named fields, so a misspelt one is a type error, not a
rule that silently never fires). Every detail has the base fields of :class:`Detail`;
rules read a family's fields after ``facts.detail(IndexDetail)`` (None for another
family) or through the readers in ``rules/helpers.py``.

Column, constraint and ALTER TABLE subcommand facts are their own dataclasses
(:class:`ColumnDef`, :class:`ConstraintDef`, :class:`AlterCommand`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AlterCommand",
    "AlterDomainDetail",
    "AlterTableDetail",
    "ClusterDetail",
    "ColumnDef",
    "CommentDetail",
    "ConstraintDef",
    "CopyDetail",
    "CreateDomainDetail",
    "CreateTableDetail",
    "Detail",
    "DmlDetail",
    "DoDetail",
    "DropDetail",
    "EnumDetail",
    "ExplainDetail",
    "IndexDetail",
    "LockDetail",
    "NamedDetail",
    "ParseErrorDetail",
    "QueryDetail",
    "ReindexDetail",
    "RenameDetail",
    "SetConstraintsDetail",
    "SetDetail",
    "TransactionDetail",
    "TriggerDetail",
    "TruncateDetail",
    "VacuumDetail",
]


@dataclass
class Detail:
    """What any statement may have."""

    # 1-based line of the statement's first character in its script
    line: int | None = None
    # comments written just before it, or after its ``;`` on the same line
    # (``-- dbgov:ignore …``)
    comments: tuple[str, ...] = ()
    # the relation the statement is about, as written (schema-qualified when it is)
    table: str | None = None
    if_exists: bool = False
    if_not_exists: bool = False
    # set when dbgov's own analysis of the statement failed (a bug, reported)
    analysis_error: str | None = None
    # analyse_statement() given several statements: how many follow the first
    more_statements: int = 0


@dataclass
class ParseErrorDetail(Detail):
    """A script PostgreSQL's parser rejects: where."""

    error_index: int | None = None
    error_line: int | None = None
    error_column: int | None = None


@dataclass
class ConstraintDef:
    """A table or column constraint (CREATE TABLE, ADD CONSTRAINT, inline REFERENCES)."""

    type: str  # "FOREIGN KEY", "CHECK", "UNIQUE", "PRIMARY KEY", "EXCLUDE", "NOT NULL" …
    name: str | None = None
    columns: tuple[str, ...] = ()
    not_valid: bool = False
    deferrable: bool = False
    initially_deferred: bool = False
    using_index: str | None = None  # ADD … USING INDEX
    referenced_table: str | None = None
    referenced_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None
    include: tuple[str, ...] = ()
    method: str | None = None  # EXCLUDE USING …
    # CHECK (col IS NOT NULL): the column it proves NOT NULL
    not_null_column: str | None = None
    partial: bool = False


@dataclass
class ColumnDef:
    """A column definition (CREATE TABLE, ADD COLUMN)."""

    name: str
    type: str  # as SQL, e.g. "varchar(20)"
    type_name: str  # the base name, e.g. "varchar"
    not_null: bool = False
    primary_key: bool = False
    unique: bool = False
    check: bool = False
    default: str | None = None  # the DEFAULT expression as written
    has_default: bool = False
    # DEFAULT NULL (Django's db_default=None): no value for existing rows
    default_null: bool = False
    default_volatility: str | None = None  # immutable / stable / volatile / unknown
    default_volatile: bool = False
    identity: str | None = None  # "ALWAYS" / "BY DEFAULT"
    generated: str | None = None  # "STORED" / "VIRTUAL"
    serial: bool = False
    references: ConstraintDef | None = None
    collation: str | None = None


@dataclass
class AlterCommand:
    """One ALTER TABLE subcommand, in PostgreSQL's words (``action``)."""

    action: str  # "ADD COLUMN", "SET NOT NULL", "ADD CONSTRAINT FOREIGN KEY", …
    lock: str  # the LockLevel value it takes on the table
    rewrites: bool = False
    scans: bool = False
    if_exists: bool = False
    if_not_exists: bool = False
    cascade: bool = False
    column_name: str | None = None
    column: ColumnDef | None = None  # ADD COLUMN
    # ADD COLUMN NOT NULL without a (non-NULL) default: fails on the first row
    fails_if_rows: bool = False
    constraint: ConstraintDef | None = None  # ADD CONSTRAINT, inline REFERENCES
    constraint_name: str | None = None  # VALIDATE / DROP / ALTER CONSTRAINT
    not_valid: bool = False
    # ADD PRIMARY KEY USING INDEX still sets NOT NULL (a scan unless already so)
    may_scan_for_not_null: bool = False
    default_volatility: str | None = None  # SET DEFAULT
    # ALTER COLUMN TYPE
    new_type: str | None = None
    new_type_name: str | None = None
    old_type: str | None = None  # from the schema, when known
    using: bool = False
    rewrite_unless_binary_coercible: bool = False
    may_scan: bool = False  # indexes rebuilt / CHECKs verified without a rewrite
    collation: str | None = None
    parameters: tuple[str, ...] = ()  # SET / RESET (storage parameters)
    partition: str | None = None  # ATTACH / DETACH PARTITION
    concurrently: bool = False
    tablespace: str | None = None
    referenced_table: str | None = None  # VALIDATE / DROP of a known foreign key
    parent: str | None = None  # INHERIT
    name: str | None = None  # other subcommands naming something


@dataclass
class CreateTableDetail(Detail):
    temporary: bool = False
    unlogged: bool = False
    columns: tuple[ColumnDef, ...] = ()
    # table constraints and the inline ones (PRIMARY KEY, UNIQUE, REFERENCES)
    constraints: tuple[ConstraintDef, ...] = ()
    foreign_keys: tuple[ConstraintDef, ...] = ()
    like: tuple[str, ...] = ()
    partition_of: str | None = None
    inherits: tuple[str, ...] = ()
    partitioned: bool = False


@dataclass
class AlterTableDetail(Detail):
    """ALTER TABLE / VIEW / TYPE / FOREIGN TABLE … with subcommands."""

    only: bool = False
    commands: tuple[AlterCommand, ...] = ()


@dataclass
class RenameDetail(Detail):
    old_name: str | None = None
    new_name: str | None = None
    column_name: str | None = None
    constraint_name: str | None = None
    index: str | None = None
    relation_kind: str | None = None  # "index" when the statement names an index
    new_schema: str | None = None  # SET SCHEMA


@dataclass
class IndexDetail(Detail):
    index: str | None = None
    unique: bool = False
    columns: tuple[str, ...] = ()
    expressions: int = 0
    partial: bool = False
    method: str = "btree"
    include: tuple[str, ...] = ()
    only: bool = False


@dataclass
class DropDetail(Detail):
    objects: tuple[str, ...] = ()
    cascade: bool = False
    relation_kind: str | None = None  # "index" for DROP INDEX
    names: tuple[str, ...] = ()  # DROP TRIGGER / RULE / POLICY: the object names


@dataclass
class TruncateDetail(Detail):
    cascade: bool = False
    restart_identity: bool = False


@dataclass
class VacuumDetail(Detail):
    full: bool = False
    options: tuple[str, ...] = ()
    all_tables: bool = False


@dataclass
class ClusterDetail(Detail):
    index: str | None = None


@dataclass
class ReindexDetail(Detail):
    target: str = ""  # INDEX / TABLE / SCHEMA / DATABASE / SYSTEM
    options: tuple[str, ...] = ()
    name: str | None = None
    relation_kind: str | None = None


@dataclass
class CommentDetail(Detail):
    object_type: str = ""
    object: str = ""
    comment: str | None = None
    column: str | None = None


@dataclass
class TriggerDetail(Detail):
    trigger: str | None = None
    function: str = ""
    row: bool = False
    replace: bool = False
    constraint: bool = False


@dataclass
class DoDetail(Detail):
    body: str | None = None
    language: str = "plpgsql"
    opaque: bool = True  # what the block does is not analysed


@dataclass
class TransactionDetail(Detail):
    chain: bool = False
    savepoint: str | None = None


@dataclass
class SetDetail(Detail):
    """SET / RESET of a setting."""

    name: str | None = None  # "ALL" for RESET ALL
    value: Any = None
    local: bool = False
    value_ms: int | None = None  # *_timeout settings


@dataclass
class SetConstraintsDetail(Detail):
    constraints: tuple[str, ...] = ()
    mode: str = "IMMEDIATE"


@dataclass
class EnumDetail(Detail):
    """ALTER TYPE … ADD VALUE / RENAME VALUE, CREATE TYPE … AS ENUM."""

    type: str = ""
    value: str | None = None
    old_value: str | None = None
    before: str | None = None
    after: str | None = None
    values: tuple[str, ...] = ()


@dataclass
class QueryDetail(Detail):
    """Statements built on a query: its output column names where certain."""

    output_columns: tuple[str, ...] = ()


@dataclass
class SelectDetail(QueryDetail):
    functions: tuple[str, ...] = ()
    # set_config('lock_timeout', '2s', false) calls: {setting: value}
    set_config: dict[str, Any] = field(default_factory=dict)
    into: str | None = None  # SELECT … INTO t creates t (kind CREATE TABLE AS)


@dataclass
class ViewDetail(QueryDetail):
    view: str | None = None
    replace: bool = False


@dataclass
class DmlDetail(Detail):
    """UPDATE / DELETE / INSERT / MERGE on ``table``."""

    has_where: bool = False
    columns: tuple[str | None, ...] = ()  # UPDATE's SET targets, INSERT's column list
    from_select: bool = False
    # INSERT … ON CONFLICT DO UPDATE SET / MERGE WHEN clauses: the columns each names
    assignment_lists: tuple[tuple[str, ...], ...] = ()


@dataclass
class LockDetail(Detail):
    mode: str = ""
    nowait: bool = False


@dataclass
class CopyDetail(Detail):
    direction: str = "FROM"


@dataclass
class AlterDomainDetail(Detail):
    domain: str = ""
    constraint: ConstraintDef | None = None
    # ADD CONSTRAINT / SET NOT NULL / VALIDATE check every column of the domain
    checks_all_columns: bool = False


@dataclass
class CreateDomainDetail(Detail):
    domain: str = ""
    base_type: str = ""
    has_check: bool = False
    not_null: bool = False


@dataclass
class ExplainDetail(Detail):
    analyze: bool = False


@dataclass
class NamedDetail(Detail):
    """Statements about one named object (CREATE SCHEMA / EXTENSION / FUNCTION …)."""

    name: str | None = None
    replace: bool = False
