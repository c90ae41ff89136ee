"""SQL facts from PostgreSQL's own parser (pglast / libpg_query), by statement family.

``split_and_analyse(script)`` splits a script into statements (each keeps its original
text) and returns one :class:`~dbgov.analysis.model.StatementFacts` per statement;
``analyse_statement(sql)`` does the same for one statement. Neither ever raises: a
script that does not parse becomes ONE ``StatementFacts`` whose ``parse_error`` is the
parser's message with its position.

The lock / rewrite / scan knowledge lives in :mod:`dbgov.analysis.locks`; this package
only reads the parse tree. It works on libpg_query's JSON parse tree (about ten times
faster to build than pglast's Python node objects) and caches by text, so rendering the
same SQL twice costs nothing. ``StatementFacts.details`` is a typed dataclass per
statement family (:mod:`dbgov.analysis.details`).

Modules: ``tree`` (parsing, node helpers), ``context`` (schema, lock accumulator),
``columns`` (column and constraint definitions), ``tables`` (CREATE / ALTER TABLE),
``objects`` (RENAME, DROP, TRUNCATE, COMMENT, triggers, domains, enums, named objects),
``maintenance`` (indexes, REINDEX, CLUSTER, VACUUM, REFRESH), ``queries`` (DML, SELECT,
views, LOCK, COPY), ``session`` (transactions, SET, DO, GRANT).
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any

from dbgov.analysis import locks as L
from dbgov.analysis.details import Detail, ParseErrorDetail
from dbgov.analysis.model import StatementFacts
from dbgov.analysis.schema import Schema

from .columns import column_info
from .context import _OFFSET, _SCHEMA, _Acc, _make
from .maintenance import _cluster, _index, _refresh, _reindex, _vacuum
from .objects import (
    _alter_domain,
    _alter_enum,
    _comment,
    _create_domain,
    _create_enum,
    _create_function,
    _create_stats,
    _define,
    _drop,
    _named,
    _rename,
    _set_schema,
    _table_lock_stmt,
    _trigger,
    _truncate,
)
from .queries import _copy, _create_table_as, _dml, _explain, _lock, _select, _view
from .session import _do, _grant, _set, _set_constraints, _transaction
from .tables import _alter_table, _create_table
from .tree import Node, _parse, _scanner_split, _unwrap, _words

__all__ = [
    "analyse_statement",
    "column_info",
    "split_and_analyse",
    "split_and_analyse_each",
    "type_change_rewrites",
]

type_change_rewrites = L.type_change_rewrites


# --- public API -------------------------------------------------------------------


def split_and_analyse(
    script: str, *, pg_version: int | None = None, schema: Schema | None = None
) -> list[StatementFacts]:
    """Split ``script`` into statements and analyse each; never raises.

    An empty script (or one of only comments) gives ``[]``; a script that does not
    parse gives one ``StatementFacts`` with ``parse_error`` set.
    """
    return list(_split_and_analyse(script, pg_version, schema))


def analyse_statement(
    sql: str, *, pg_version: int | None = None, schema: Schema | None = None
) -> StatementFacts:
    """The facts of one statement; never raises.

    Given several statements, the first one's facts are returned with
    ``details.more_statements`` counting the others (use :func:`split_and_analyse`).
    """
    return _analyse_statement(sql, pg_version, schema)


def split_and_analyse_each(
    script: str, *, pg_version: int | None = None, schema: Schema | None = None
) -> list[StatementFacts]:
    """Like :func:`split_and_analyse`, but a script that does not parse is split with
    PostgreSQL's scanner instead and each piece analysed on its own, so only the broken
    statements carry a ``parse_error`` (with their own line). For linters."""
    facts = split_and_analyse(script, pg_version=pg_version, schema=schema)
    if len(facts) != 1 or facts[0].parse_error is None:
        return facts
    try:
        pieces = _scanner_split(script)
    except Exception:
        return facts
    if len(pieces) <= 1:
        return facts
    out: list[StatementFacts] = []
    for offset, piece in pieces:
        first_line = script.count("\n", 0, offset)
        lead = piece[: len(piece) - len(piece.lstrip())].count("\n")
        for f in split_and_analyse(piece, pg_version=pg_version, schema=schema):
            line = (f.details.line or 1 + lead) + first_line
            details = replace(f.details, line=line)
            if isinstance(details, ParseErrorDetail) and details.error_line is not None:
                details.error_line += first_line
            error = f.parse_error
            if error is not None:
                error = re.sub(
                    r"\(line \d+, column (\d+)\)$",
                    f"(line {line}, column \\1)",
                    error,
                )
                error = re.sub(r", at index \d+", "", error)
                if "(line " not in error:
                    error = f"{error} (line {line})"
            out.append(replace(f, details=details, parse_error=error))
    return out


@functools.lru_cache(maxsize=8192)
def _analyse_statement(sql: str, pg_version: int | None, schema: Schema | None) -> StatementFacts:
    facts = _split_and_analyse(sql, pg_version, schema)
    if not facts:
        return StatementFacts(sql=sql, node="", kind="EMPTY")
    first = facts[0]
    if len(facts) > 1:
        # a copy: the cached facts of split_and_analyse(sql) stay as they are
        first = replace(first, details=replace(first.details, more_statements=len(facts) - 1))
    return first


@functools.lru_cache(maxsize=2048)
def _split_and_analyse(
    script: str, pg_version: int | None, schema: Schema | None
) -> tuple[StatementFacts, ...]:
    parsed = _parse(script)
    if isinstance(parsed, StatementFacts):
        return (parsed,)
    _SCHEMA[0] = schema or Schema(major=L.pg_major(pg_version))
    return tuple(
        _facts(text, node, comments, pg_version, line, offset)
        for text, node, comments, line, offset in parsed
    )


def _facts(
    text: str,
    stmt: Node,
    comments: list[str],
    pg_version: int | None,
    line: int = 1,
    offset: int = 0,
) -> StatementFacts:
    node, body = _unwrap(stmt)
    _OFFSET[0] = offset  # where ``text`` starts in the parsed script (bytes)
    try:
        handler = _HANDLERS.get(node, _generic)
        facts: StatementFacts = handler(text, node, body, L.pg_major(pg_version))
        details = facts.details
    except Exception as exc:  # a bug here must not crash a plan: report it instead
        details = Detail(analysis_error=f"{type(exc).__name__}: {exc}")
        facts = StatementFacts(sql=text, node=node, kind=_words(node), details=details)
    # the handler made a fresh Detail: where the statement is belongs to it too
    details.line = line
    details.comments = tuple(comments)
    return facts


def _generic(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    kind = _words(node) if node else "UNKNOWN"
    transactional = node not in _NEVER_IN_TRANSACTION
    return _make(text, node, kind, _Acc(), Detail(), transactional=transactional)


# Statements PostgreSQL refuses inside a transaction block, whatever their options.
_NEVER_IN_TRANSACTION = frozenset(
    {
        "CreatedbStmt",
        "DropdbStmt",
        "AlterSystemStmt",
        "CreateTableSpaceStmt",
        "DropTableSpaceStmt",
    }
)


_HANDLERS: dict[str, Any] = {
    "CreateStmt": _create_table,
    "AlterTableStmt": _alter_table,
    "RenameStmt": _rename,
    "AlterObjectSchemaStmt": _set_schema,
    "IndexStmt": _index,
    "DropStmt": _drop,
    "TruncateStmt": _truncate,
    "VacuumStmt": _vacuum,
    "ClusterStmt": _cluster,
    "ReindexStmt": _reindex,
    "CommentStmt": _comment,
    "CreateTrigStmt": _trigger,
    "DoStmt": _do,
    "TransactionStmt": _transaction,
    "VariableSetStmt": _set,
    "ConstraintsSetStmt": _set_constraints,
    "AlterEnumStmt": _alter_enum,
    "UpdateStmt": _dml,
    "DeleteStmt": _dml,
    "InsertStmt": _dml,
    "MergeStmt": _dml,
    "SelectStmt": _select,
    "LockStmt": _lock,
    "CopyStmt": _copy,
    "RefreshMatViewStmt": _refresh,
    "RuleStmt": _table_lock_stmt("CREATE RULE", "CREATE RULE"),
    "CreatePolicyStmt": _table_lock_stmt("CREATE POLICY", "CREATE POLICY", "table"),
    "AlterPolicyStmt": _table_lock_stmt("ALTER POLICY", "CREATE POLICY", "table"),
    "CreateStatsStmt": _create_stats,
    "CreateFunctionStmt": _create_function,
    "CreateTableAsStmt": _create_table_as,
    "ViewStmt": _view,
    "AlterDomainStmt": _alter_domain,
    "CreateDomainStmt": _create_domain,
    "CreateEnumStmt": _create_enum,
    "ExplainStmt": _explain,
    "GrantStmt": _grant,
    "CreateSeqStmt": _named("CREATE SEQUENCE", name_key="sequence"),
    "AlterSeqStmt": _table_lock_stmt("ALTER SEQUENCE", "ALTER SEQUENCE", "sequence"),
    "CreateExtensionStmt": _named("CREATE EXTENSION", name_key="extname"),
    "CreateSchemaStmt": _named("CREATE SCHEMA", name_key="schemaname"),
    "CreatedbStmt": _named("CREATE DATABASE", transactional=False, name_key="dbname"),
    "DropdbStmt": _named("DROP DATABASE", transactional=False, name_key="dbname"),
    "AlterSystemStmt": _named("ALTER SYSTEM", transactional=False),
    "CreateTableSpaceStmt": _named(
        "CREATE TABLESPACE", transactional=False, name_key="tablespacename"
    ),
    "DropTableSpaceStmt": _named("DROP TABLESPACE", transactional=False, name_key="tablespacename"),
    "CallStmt": _named("CALL"),
    "VariableShowStmt": _named("SHOW", name_key="name"),
    "CompositeTypeStmt": _named("CREATE TYPE"),
    "DefineStmt": _define,
}
