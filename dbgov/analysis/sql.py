"""SQL facts from PostgreSQL's own parser (pglast / libpg_query).

``split_and_analyse(script)`` splits a script into statements (each keeps its original
text) and returns one :class:`~dbgov.analysis.model.StatementFacts` per statement;
``analyse_statement(sql)`` does the same for one statement. Neither ever raises: a
script that does not parse becomes ONE ``StatementFacts`` whose ``parse_error`` is the
parser's message with its position.

The lock / rewrite / scan knowledge lives in :mod:`dbgov.analysis.locks`; this module
only reads the parse tree. It works on libpg_query's JSON parse tree (about ten times
faster to build than pglast's Python node objects) and caches by text, so rendering the
same SQL twice costs nothing.

``StatementFacts.details`` keys, by statement (all optional, absent when not known):

- every statement: ``line`` (1-based line of its first character in the script),
  ``comments`` (comments written just before it, or after its ``;`` on the same line,
  e.g. ``-- dbgov:ignore …``), ``if_exists`` / ``if_not_exists``.
- ALTER TABLE: ``commands`` (one dict per subcommand: ``action``, ``lock``,
  ``rewrites``, ``scans`` and the keys below); with a single subcommand its keys are
  also copied to the top level. ADD COLUMN: ``column`` (a column dict, see
  :func:`column_info`). Constraints: ``not_valid`` and ``constraint`` (``name``, ``type``, ``not_valid``,
  ``using_index``, ``columns``, ``referenced_table``, ``referenced_columns``,
  ``on_delete``, ``on_update``, ``deferrable``, ``initially_deferred``).
  ADD COLUMN's ``column["default"]`` is the default expression as written.
  ALTER COLUMN TYPE: ``column_name``, ``new_type``, ``using``,
  ``rewrite_unless_binary_coercible``. SET/DROP NOT NULL, SET/DROP DEFAULT, DROP
  COLUMN: ``column_name`` (``default`` for SET DEFAULT, ``cascade`` for DROP).
  RENAME: ``old_name``, ``new_name``.
- CREATE TABLE: ``table``, ``columns`` (column dicts), ``constraints`` (table
  constraints and inline ones), ``foreign_keys``, ``partition_of``, ``inherits``,
  ``like``, ``temporary``, ``unlogged``.
- CREATE INDEX: ``index``, ``table``, ``unique``, ``columns``, ``expressions``,
  ``partial``, ``method``. DROP …: ``objects``, ``cascade``.
- UPDATE / DELETE: ``has_where``, ``columns`` (UPDATE's SET targets, in order).
- SET / RESET: ``name``, ``value``, ``local``, ``value_ms`` (for *_timeout settings).
- SET CONSTRAINTS: ``constraints`` (``["ALL"]``), ``mode`` ("IMMEDIATE"/"DEFERRED").
- ALTER TYPE … ADD VALUE: ``type``, ``value``, ``before`` / ``after``.
- COMMENT: ``object_type``, ``object``, ``column``, ``comment``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from pglast import parser as _pg

try:  # 2-3x faster to decode libpg_query's JSON parse tree; json is the fallback
    from orjson import loads as _json_loads
except ImportError:  # pragma: no cover
    _json_loads = json.loads  # type: ignore[assignment]

from dbgov.analysis import locks as L
from dbgov.analysis.model import LockLevel, StatementFacts, TableLock
from dbgov.analysis.schema import BUILTIN, ForeignKey, Schema

__all__ = [
    "analyse_statement",
    "column_info",
    "split_and_analyse",
    "split_and_analyse_each",
    "type_change_rewrites",
]

type_change_rewrites = L.type_change_rewrites

Node = dict[str, Any]

_COMMENT_RE = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


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
    ``details["more_statements"]`` counting the others (use :func:`split_and_analyse`).
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
            details = dict(f.details)
            details["line"] = details.get("line", 1 + lead) + first_line
            if "error_line" in details:
                details["error_line"] += first_line
            error = f.parse_error
            if error is not None:
                error = re.sub(
                    r"\(line \d+, column (\d+)\)$",
                    f"(line {details['line']}, column \\1)",
                    error,
                )
                error = re.sub(r", at index \d+", "", error)
                if "(line " not in error:
                    error = f"{error} (line {details['line']})"
            out.append(replace(f, details=details, parse_error=error))
    return out


def _scanner_split(script: str) -> list[tuple[int, str]]:
    """[(char offset, statement text)] split at top-level semicolons by the scanner."""
    pieces: list[tuple[int, str]] = []
    start = 0
    for token in _pg.scan(script):
        if token.name == "ASCII_59":
            text = script[start : token.start]
            if text.strip():
                pieces.append((start, text))
            start = token.end + 1
    if script[start:].strip():
        pieces.append((start, script[start:]))
    return pieces


@functools.lru_cache(maxsize=8192)
def _analyse_statement(sql: str, pg_version: int | None, schema: Schema | None) -> StatementFacts:
    facts = _split_and_analyse(sql, pg_version, schema)
    if not facts:
        return StatementFacts(sql=sql, node="", kind="EMPTY")
    first = facts[0]
    if len(facts) > 1:
        # a copy: the cached facts of split_and_analyse(sql) stay as they are
        first = replace(first, details={**first.details, "more_statements": len(facts) - 1})
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


# --- parsing ------------------------------------------------------------------------


def _error_facts(script: str, message: str, index: int | None) -> StatementFacts:
    details: dict[str, Any] = {}
    if index is not None and index >= 0:
        before = script[:index]
        line = before.count("\n") + 1
        column = index - (before.rfind("\n") + 1) + 1
        message = f"{message} (line {line}, column {column})"
        details.update(line=line, error_index=index, error_line=line, error_column=column)
    return StatementFacts(sql=script, node="", kind="", details=details, parse_error=message)


def _parse(script: str) -> list[tuple[str, Node, list[str], int, int]] | StatementFacts:
    """[(statement text, {NodeType: body}, comments, line, byte offset of the text)] or
    an error's facts. The parse tree's locations are byte offsets in ``script``."""
    try:
        tree = _json_loads(_pg.parse_sql_json(script))
    except _pg.ParseError as exc:
        index = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        return _error_facts(script, str(exc), index)
    except Exception as exc:  # NUL bytes, stack depth, encoding: still a parse failure
        return _error_facts(script, f"{type(exc).__name__}: {exc}", None)
    raw = script.encode("utf-8", "surrogatepass")
    out: list[tuple[str, Node, list[str], int, int]] = []
    previous_end = 0
    line, line_at = 1, 0
    for item in tree.get("stmts", ()):
        start = item.get("stmt_location", 0)
        length = item.get("stmt_len", 0)
        end = start + length if length else len(raw)
        text = raw[start:end].decode("utf-8", "replace").strip()
        gap = raw[previous_end:start].decode("utf-8", "replace")
        comments: list[str] = []
        if "--" in gap or "/*" in gap:
            # a comment on the line where the previous statement ends belongs to it
            # ("ALTER …; -- dbgov:ignore …"); the rest lead into this statement
            newline = gap.find("\n")
            if out and newline != -1:
                trailing = _COMMENT_RE.findall(gap[:newline])
                if trailing:
                    out[-1][2].extend(trailing)
                gap = gap[newline:]
            elif out:
                out[-1][2].extend(_COMMENT_RE.findall(gap))
                gap = ""
            comments = _COMMENT_RE.findall(gap)
        segment = raw[start:end]
        first = start + len(segment) - len(segment.lstrip())
        line += raw.count(b"\n", line_at, first)  # incremental: linear in the script
        line_at = first
        previous_end = end
        out.append((text, item.get("stmt", {}), comments, line, first))
    if out and previous_end < len(raw):
        tail = raw[previous_end:].decode("utf-8", "replace")
        newline = tail.find("\n")
        out[-1][2].extend(_COMMENT_RE.findall(tail if newline == -1 else tail[:newline]))
    return out


# --- small tree helpers -------------------------------------------------------------


def _unwrap(node: Node | None) -> tuple[str, Node]:
    if not node:
        return "", {}
    for name, body in node.items():  # exactly one item: {NodeType: body}
        return name, body
    return "", {}  # pragma: no cover


def _rv_name(rv: Node | None) -> str:
    """A RangeVar's name, schema-qualified as written."""
    if not rv:
        return ""
    if "RangeVar" in rv:
        rv = rv["RangeVar"]
    parts = [rv.get("catalogname"), rv.get("schemaname"), rv.get("relname")]
    return ".".join(p for p in parts if p)


def _strings(items: Iterable[Node] | None) -> list[str]:
    out = []
    for item in items or ():
        name, body = _unwrap(item)
        if name == "String":
            out.append(body.get("sval", ""))
        elif name == "A_Star":
            out.append("*")
    return out


def _object_name(item: Node) -> str:
    name, body = _unwrap(item)
    if name == "String":
        return str(body.get("sval", ""))
    if name == "List":
        return ".".join(_strings(body.get("items")))
    if name == "TypeName":
        return ".".join(_strings(body.get("names")))
    if name == "ObjectWithArgs":
        return ".".join(_strings(body.get("objname")))
    if name == "RangeVar":
        return _rv_name(body)
    return name


def _walk(node: Any) -> Iterator[tuple[str, Node]]:
    """Every (NodeType, body) below ``node`` (iterative: deep trees do not recurse)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for key, value in cur.items():
                if key[:1].isupper() and isinstance(value, dict):
                    yield key, value
                if isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(cur, list):
            stack.extend(cur)


def _const(node: Node | None) -> Any:
    """Python value of an A_Const / Integer / String / Float / TypeCast-of-const node."""
    name, body = _unwrap(node)
    if name == "TypeCast":
        return _const(body.get("arg"))
    if name == "A_Const":
        if body.get("isnull"):
            return None
        for key in ("ival", "sval", "fval", "boolval", "bsval"):
            if key in body:
                inner = body[key]
                return inner.get(key, 0 if key == "ival" else "")
        return 0  # ival 0 is omitted from the JSON
    if name == "Integer":
        return body.get("ival", 0)
    if name in ("String", "Float", "Boolean", "BitString"):
        return next(iter(body.values()), "")
    return None


_INTERNAL_TYPES = {
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "bool": "boolean",
    "float4": "real",
    "float8": "double precision",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp",
    "timetz": "time with time zone",
    "time": "time",
    "bpchar": "char",
    "varbit": "bit varying",
}
_SERIAL_TYPES = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})


def _type_name(tn: Node | None) -> tuple[str, str]:
    """(rendered type as SQL, base name) of a TypeName body."""
    if not tn:
        return "", ""
    names = _strings(tn.get("names"))
    if len(names) == 2 and names[0] == "pg_catalog":
        base = _INTERNAL_TYPES.get(names[1], names[1])
    else:
        base = ".".join(names)
    mods = [str(_const(m)) for m in tn.get("typmods", ()) if _const(m) is not None]
    rendered = base
    if mods:
        if base.endswith(" with time zone"):
            head = base[: -len(" with time zone")]
            rendered = f"{head}({', '.join(mods)}) with time zone"
        else:
            rendered = f"{base}({', '.join(mods)})"
    if tn.get("setof"):
        rendered = f"setof {rendered}"
    rendered += "[]" * len(tn.get("arrayBounds", ()))
    if tn.get("pct_type"):
        rendered += "%TYPE"
    return rendered, base


_FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
_CONSTRAINT_WORDS = {
    "CONSTR_FOREIGN": "FOREIGN KEY",
    "CONSTR_CHECK": "CHECK",
    "CONSTR_UNIQUE": "UNIQUE",
    "CONSTR_PRIMARY": "PRIMARY KEY",
    "CONSTR_EXCLUSION": "EXCLUDE",
    "CONSTR_NOTNULL": "NOT NULL",
    "CONSTR_NULL": "NULL",
    "CONSTR_DEFAULT": "DEFAULT",
    "CONSTR_IDENTITY": "IDENTITY",
    "CONSTR_GENERATED": "GENERATED",
}


def _constraint_info(con: Node, column: str | None = None) -> dict[str, Any]:
    contype = con.get("contype", "")
    info: dict[str, Any] = {
        "name": con.get("conname"),
        "type": _CONSTRAINT_WORDS.get(contype, contype),
        "not_valid": bool(con.get("skip_validation")),
        "deferrable": bool(con.get("deferrable")),
        "initially_deferred": bool(con.get("initdeferred")),
    }
    keys = _strings(con.get("keys")) or _strings(con.get("fk_attrs"))
    if not keys and column:
        keys = [column]
    info["columns"] = keys
    if con.get("indexname"):
        info["using_index"] = con["indexname"]
    if contype == "CONSTR_FOREIGN":
        info["referenced_table"] = _rv_name(con.get("pktable"))
        info["referenced_columns"] = _strings(con.get("pk_attrs"))
        info["on_delete"] = _FK_ACTIONS.get(con.get("fk_del_action", "a"), "NO ACTION")
        info["on_update"] = _FK_ACTIONS.get(con.get("fk_upd_action", "a"), "NO ACTION")
    if contype == "CONSTR_PRIMARY" or contype == "CONSTR_UNIQUE":
        info["include"] = _strings(con.get("including"))
    if contype == "CONSTR_EXCLUSION":
        info["method"] = con.get("access_method", "gist")
    if contype == "CONSTR_CHECK":
        # CHECK (col IS NOT NULL): from PostgreSQL 12 a valid one lets SET NOT NULL skip
        # its scan (sql-altertable.html, SET/DROP NOT NULL)
        name, test = _unwrap(con.get("raw_expr"))
        if name == "NullTest" and test.get("nulltesttype") == "IS_NOT_NULL":
            arg_name, arg = _unwrap(test.get("arg"))
            if arg_name == "ColumnRef":
                fields = _strings(arg.get("fields"))
                if fields:
                    info["not_null_column"] = fields[-1]
    if con.get("where_clause"):
        info["partial"] = True
    return info


_PROVOLATILE = {"i": "immutable", "s": "stable", "v": "volatile"}


def _is_null(expr: Node | None) -> bool:
    name, body = _unwrap(expr)
    while name == "TypeCast":
        name, body = _unwrap(body.get("arg"))
    return name == "A_Const" and bool(body.get("isnull"))


def _same_column(expr: Node, column: str | None) -> bool:
    """Whether a USING expression is the column itself (perhaps cast): no new values."""
    name, body = _unwrap(expr)
    while name == "TypeCast":
        name, body = _unwrap(body.get("arg"))
    return name == "ColumnRef" and _strings(body.get("fields"))[-1:] == [column]


def _volatility(expr: Node | None) -> str:
    """ "immutable", "stable", "volatile" or "unknown" for a raw default expression."""
    name, body = _unwrap(expr)
    if name == "A_Const" or (name == "TypeCast" and "A_Const" in (body.get("arg") or {})):
        return "immutable"  # the common case: a constant (or a cast constant)
    worst = "immutable"
    order = {"immutable": 0, "stable": 1, "unknown": 2, "volatile": 3}
    for name, body in _walk(expr):
        level = None
        if name == "FuncCall":
            code = _schema().volatility(".".join(_strings(body.get("funcname"))))
            level = _PROVOLATILE.get(code, "unknown") if code else "unknown"
        elif name == "SQLValueFunction":
            level = "stable"
        elif name in ("SubLink", "CurrentOfExpr"):
            level = "unknown"
        if level and order[level] > order[worst]:
            worst = level
    return worst


@functools.lru_cache(maxsize=1024)
def _tokens(sql: str) -> tuple[Any, ...]:
    try:
        return tuple(_pg.scan(sql))
    except Exception:  # pragma: no cover - the statement already parsed
        return ()


# Tokens that end a DEFAULT expression at parenthesis depth 0 (the next column
# constraint, the next column / subcommand, the end of the column list).
_DEFAULT_STOP = frozenset(
    {
        "ASCII_44",  # ,
        "ASCII_59",  # ;
        "ASCII_41",  # ) closing the column list
        "CONSTRAINT",
        "CHECK",
        "UNIQUE",
        "PRIMARY",
        "REFERENCES",
        "DEFAULT",
        "GENERATED",
        "COLLATE",
        "DEFERRABLE",
        "INITIALLY",
        "NOT",
        "NULL_P",
    }
)


def _default_text(sql: str, byte_location: int) -> str | None:
    """The text of the DEFAULT expression whose DEFAULT keyword is at ``byte_location``.

    Read with PostgreSQL's scanner (fast), not the deparser: the expression as written.
    """
    if byte_location < 0:
        return None
    pos = byte_location
    if not sql.isascii():
        pos = len(sql.encode("utf-8", "surrogatepass")[:byte_location].decode("utf-8", "replace"))
    tokens = _tokens(sql)
    start = next((k for k, t in enumerate(tokens) if t.start == pos), None)
    if start is None or tokens[start].name != "DEFAULT":
        return None
    depth = 0
    first = last = None
    for tok in tokens[start + 1 :]:
        if depth == 0 and first is not None and tok.name in _DEFAULT_STOP:
            break
        if depth == 0 and first is None and tok.name in ("ASCII_44", "ASCII_59", "ASCII_41"):
            break
        if tok.name == "ASCII_40":
            depth += 1
        elif tok.name == "ASCII_41":
            depth -= 1
        first = tok if first is None else first
        last = tok
    if first is None or last is None:
        return None
    return sql[first.start : last.end + 1]


# Byte offset of the statement being analysed within its script (the parse tree's
# locations count from the script's start). Analysis is synchronous: one slot suffices.
_OFFSET = [0]
# The schema the statements being analysed run on (same reason: one slot suffices).
_SCHEMA: list[Schema] = [BUILTIN]


def _schema() -> Schema:
    return _SCHEMA[0]


AE = LockLevel.ACCESS_EXCLUSIVE


def _foreign_keys(table: str) -> Mapping[str, ForeignKey]:
    lookup = _schema().foreign_keys
    return (lookup(table) if lookup and table else None) or {}


def _referenced_by(table: str) -> tuple[str, ...]:
    lookup = _schema().referenced_by
    return (lookup(table) if lookup and table else None) or ()


def _partition_parent(table: str) -> str | None:
    lookup = _schema().partition_parent
    return lookup(table) if lookup and table else None


def column_info(coldef: Node, sql: str = "", offset: int | None = None) -> dict[str, Any]:
    """The facts of a ColumnDef body: name, type, NOT NULL, default, identity, …"""
    type_sql, base = _type_name(coldef.get("typeName"))
    info: dict[str, Any] = {
        "name": coldef.get("colname"),
        "type": type_sql,
        "type_name": base,
        "not_null": bool(coldef.get("is_not_null")),
        "primary_key": False,
        "unique": False,
        "default": None,
        "has_default": False,
        "default_volatility": None,
        "default_volatile": False,
        # DEFAULT NULL (Django's db_default=None): no value for existing rows
        "default_null": False,
        "identity": None,
        "generated": None,
        "serial": base.lower() in _SERIAL_TYPES,
        "check": False,
        "references": None,
    }
    if coldef.get("collClause"):
        info["collation"] = ".".join(_strings(coldef["collClause"].get("collname")))
    if coldef.get("raw_default"):
        info["has_default"] = True
        info["default_volatility"] = _volatility(coldef["raw_default"])
    for item in coldef.get("constraints", ()):
        _, con = _unwrap(item)
        contype = con.get("contype")
        if contype == "CONSTR_NOTNULL":
            info["not_null"] = True
        elif contype == "CONSTR_DEFAULT":
            info["has_default"] = True
            info["default_volatility"] = _volatility(con.get("raw_expr"))
            info["default_null"] = _is_null(con.get("raw_expr"))
            if sql:
                start = _OFFSET[0] if offset is None else offset
                info["default"] = _default_text(sql, con.get("location", -1) - start)
        elif contype == "CONSTR_IDENTITY":
            info["identity"] = "ALWAYS" if con.get("generated_when") == "a" else "BY DEFAULT"
            info["not_null"] = True
        elif contype == "CONSTR_GENERATED":
            info["generated"] = "VIRTUAL" if con.get("generated_kind") == "v" else "STORED"
        elif contype == "CONSTR_PRIMARY":
            info["primary_key"] = True
            info["not_null"] = True
        elif contype == "CONSTR_UNIQUE":
            info["unique"] = True
        elif contype == "CONSTR_CHECK":
            info["check"] = True
        elif contype == "CONSTR_FOREIGN":
            info["references"] = _constraint_info(con, info["name"])
    if info["serial"]:
        info["not_null"] = True
        info["default_volatility"] = "volatile"
    if info["default_volatility"] is not None:
        info["default_volatile"] = info["default_volatility"] in ("volatile", "unknown")
    return info


# --- the facts ----------------------------------------------------------------------


class _Acc:
    """Accumulates per-relation locks (strongest wins) in first-seen order."""

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.locks: dict[str, list[Any]] = {}
        self.other: list[TableLock] = []  # locks on relations the statement does not name

    def table(self, name: str) -> None:
        if name and name not in self.tables:
            self.tables.append(name)

    def lock(
        self,
        name: str,
        level: LockLevel,
        rewrites: bool = False,
        scans: bool = False,
        *,
        index_lock: LockLevel | None = None,
        via: str | None = None,
    ) -> None:
        if not name:
            return
        self.table(name)
        cur = self.locks.get(name)
        if cur is None:
            self.locks[name] = [level, rewrites, scans, index_lock, via]
        else:
            cur[0] = L.strongest((cur[0], level))
            cur[1] = cur[1] or rewrites
            cur[2] = cur[2] or scans
            if index_lock is not None:
                cur[3] = index_lock if cur[3] is None else L.strongest((cur[3], index_lock))

    def dependents(self, name: str, level: LockLevel, *, via: str = "dependents") -> None:
        """``level`` on every table that uses ``name`` (a type, domain, function …)."""
        self.other.append(TableLock(table=name, lock=level, via=via))

    def result(self) -> tuple[tuple[str, ...], tuple[TableLock, ...]]:
        return tuple(self.tables), tuple(
            TableLock(table=name, lock=lv, rewrites=rw, scans=sc, index_lock=il, via=via)
            for name in self.tables
            if name in self.locks
            for lv, rw, sc, il, via in (self.locks[name],)
        ) + tuple(self.other)


def _words(node_name: str) -> str:
    """ "CreateForeignServerStmt" → "CREATE FOREIGN SERVER"."""
    base = node_name[:-4] if node_name.endswith("Stmt") else node_name
    return " ".join(re.findall(r"[A-Z][a-z]*|[a-z]+", base)).upper()


def _objtype_words(objtype: str) -> str:
    word = objtype.removeprefix("OBJECT_")
    return {
        "MATVIEW": "MATERIALIZED VIEW",
        "TABCONSTRAINT": "CONSTRAINT",
        "FOREIGN_TABLE": "FOREIGN TABLE",
        "FDW": "FOREIGN DATA WRAPPER",
        "FOREIGN_SERVER": "SERVER",
        "ACCESS_METHOD": "ACCESS METHOD",
        "EVENT_TRIGGER": "EVENT TRIGGER",
        "TSCONFIGURATION": "TEXT SEARCH CONFIGURATION",
        "TSDICTIONARY": "TEXT SEARCH DICTIONARY",
        "TSPARSER": "TEXT SEARCH PARSER",
        "TSTEMPLATE": "TEXT SEARCH TEMPLATE",
        "LARGEOBJECT": "LARGE OBJECT",
        "OPCLASS": "OPERATOR CLASS",
        "OPFAMILY": "OPERATOR FAMILY",
        "STATISTIC_EXT": "STATISTICS",
        "USER_MAPPING": "USER MAPPING",
        "DEFACL": "DEFAULT PRIVILEGES",
    }.get(word, word.replace("_", " "))


def _facts(
    text: str,
    stmt: Node,
    comments: list[str],
    pg_version: int | None,
    line: int = 1,
    offset: int = 0,
) -> StatementFacts:
    node, body = _unwrap(stmt)
    details: dict[str, Any] = {"line": line}
    _OFFSET[0] = offset  # where ``text`` starts in the parsed script (bytes)
    if comments:
        details["comments"] = comments
    try:
        handler = _HANDLERS.get(node, _generic)
        return handler(text, node, body, details, L.pg_major(pg_version))
    except Exception as exc:  # a bug here must not crash a plan: report it instead
        details["analysis_error"] = f"{type(exc).__name__}: {exc}"
        return StatementFacts(sql=text, node=node, kind=_words(node), details=details)


def _make(
    text: str,
    node: str,
    kind: str,
    acc: _Acc | None,
    details: dict[str, Any],
    *,
    actions: Iterable[str] = (),
    concurrently: bool = False,
    transactional: bool = True,
) -> StatementFacts:
    tables, table_locks = acc.result() if acc else ((), ())
    return StatementFacts(
        sql=text,
        node=node,
        kind=kind,
        tables=tables,
        locks=table_locks,
        actions=tuple(dict.fromkeys(actions)),
        concurrently=concurrently,
        transactional=transactional,
        details=details,
    )


def _statement_lock(acc: _Acc, name: str, kind: str) -> None:
    level, rewrites, scans = L.STATEMENT_LOCKS[kind]
    acc.lock(name, level, rewrites, scans)


def _generic(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    kind = _words(node) if node else "UNKNOWN"
    acc = _Acc()
    transactional = node not in _NEVER_IN_TRANSACTION
    return _make(text, node, kind, acc, details, transactional=transactional)


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


def _create_table(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    acc.table(table)
    rel = body.get("relation") or {}
    details.update(
        table=table,
        temporary=rel.get("relpersistence") == "t",
        unlogged=rel.get("relpersistence") == "u",
        if_not_exists=bool(body.get("if_not_exists")),
    )
    columns: list[dict[str, Any]] = []
    constraints: list[dict[str, Any]] = []
    likes: list[str] = []
    for item in body.get("tableElts", ()):
        name, elt = _unwrap(item)
        if name == "ColumnDef":
            col = column_info(elt, text)
            columns.append(col)
            if col["references"]:
                constraints.append(col["references"])
            if col["primary_key"]:
                constraints.append({"type": "PRIMARY KEY", "columns": [col["name"]], "name": None})
            if col["unique"]:
                constraints.append({"type": "UNIQUE", "columns": [col["name"]], "name": None})
        elif name == "Constraint":
            constraints.append(_constraint_info(elt))
        elif name == "TableLikeClause":
            src = _rv_name(elt.get("relation"))
            likes.append(src)
            acc.lock(src, LockLevel.ACCESS_SHARE)
    fks = [c for c in constraints if c["type"] == "FOREIGN KEY"]
    for fk in fks:
        # sql-createtable / tablecmds.c: the FK's triggers on the referenced table
        # need SHARE ROW EXCLUSIVE there (as ADD FOREIGN KEY does); the new table is
        # empty, so nothing is scanned.
        acc.lock(fk["referenced_table"], LockLevel.SHARE_ROW_EXCLUSIVE)
    parents = [_rv_name(p) for p in body.get("inhRelations", ())]
    if body.get("partbound"):
        # ddl-partitioning: CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE on the
        # parent (ATTACH PARTITION is the lighter way to add a partition).
        details["partition_of"] = parents[0] if parents else None
        for parent in parents:
            acc.lock(parent, LockLevel.ACCESS_EXCLUSIVE)
    elif parents:
        details["inherits"] = parents
        for parent in parents:
            acc.lock(parent, LockLevel.SHARE_UPDATE_EXCLUSIVE)
    details.update(columns=columns, constraints=constraints, foreign_keys=fks, like=likes)
    if body.get("partspec"):
        details["partitioned"] = True
    return _make(text, node, "CREATE TABLE", acc, details)


def _alter_table(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    objtype = body.get("objtype", "OBJECT_TABLE")
    kind = "ALTER " + _objtype_words(objtype)
    table = _rv_name(body.get("relation"))
    acc = _Acc()
    acc.table(table)
    details["table"] = table
    if body.get("missing_ok"):
        details["if_exists"] = True
    if not (body.get("relation") or {}).get("inh", False):
        details["only"] = True
    commands: list[dict[str, Any]] = []
    actions: list[str] = []
    transactional = True
    concurrently = False
    for item in body.get("cmds", ()):
        _, cmd = _unwrap(item)
        info = _alter_command(cmd, text, table, acc, pg)
        if info.pop("_not_transactional", False):
            transactional = False
            concurrently = True
        commands.append(info)
        actions.append(info["action"])
    if objtype == "OBJECT_TYPE":
        # ALTER TYPE … ADD / DROP / ALTER ATTRIBUTE changes a composite type: no table
        # is locked or rewritten (a type used by a column refuses the change)
        acc = _Acc()
    details["commands"] = commands
    if len(commands) == 1:
        for key, value in commands[0].items():
            details.setdefault(key, value)
    return _make(
        text,
        node,
        kind,
        acc,
        details,
        actions=actions,
        concurrently=concurrently,
        transactional=transactional,
    )


def _alter_command(cmd: Node, text: str, table: str, acc: _Acc, pg: int) -> dict[str, Any]:
    subtype = cmd.get("subtype", "")
    spec = L.ALTER_TABLE_ACTIONS.get(subtype)
    if spec is None:
        spec = L.AlterAction(subtype.removeprefix("AT_").upper(), LockLevel.ACCESS_EXCLUSIVE)
    action, level, rewrites, scans = spec.action, spec.lock, spec.rewrites, spec.scans
    info: dict[str, Any] = {}
    name = cmd.get("name")
    definition = cmd.get("def")
    if cmd.get("missing_ok"):
        info["if_exists"] = True
    if cmd.get("behavior") == "DROP_CASCADE":
        info["cascade"] = True

    if subtype in ("AT_AddColumn", "AT_AddColumnToView"):
        _, coldef = _unwrap(definition)
        col = column_info(coldef, text)
        info["column"] = col
        info["column_name"] = col["name"]
        if cmd.get("missing_ok"):
            info["if_not_exists"] = True
        domain = _schema().constrained_domain
        checked_domain = bool(domain and domain(col["type_name"]))
        rewrites = checked_domain or L.add_column_rewrites(
            has_default=col["has_default"] and not col["default_null"],
            default_volatile=col["default_volatile"],
            generated_stored=col["generated"] == "STORED",
            identity=col["identity"] is not None,
            serial=col["serial"],
            pg_version=pg,
        )
        # NOT NULL without a default is verified against every row (it fails on a
        # table with rows); inline CHECK / UNIQUE / PRIMARY KEY / REFERENCES scan too.
        for sequence in _sequences_written(coldef):
            acc.lock(sequence, LockLevel.ROW_EXCLUSIVE)
        # NOT NULL without a (non-NULL) default fails on the first existing row:
        # PostgreSQL fills the column with NULL and rejects it (tablecmds.c)
        kind_of = _schema().relation_kind
        info["fails_if_rows"] = bool(
            (not kind_of or kind_of(table) != "f")  # a foreign table stores no rows here
            and col["not_null"]
            and (not col["has_default"] or col["default_null"])
            and not col["serial"]
            and not col["identity"]
            and not col["generated"]
        )
        # an inline UNIQUE / PRIMARY KEY builds an index over every row
        # an inline UNIQUE / PRIMARY KEY builds an index, a CHECK is verified on every row
        scans = rewrites or bool(col["unique"] or col["primary_key"] or col["check"])
        if col["references"]:
            ref = col["references"]
            acc.lock(ref["referenced_table"], LockLevel.SHARE_ROW_EXCLUSIVE)
            info["constraint"] = ref
    elif subtype in ("AT_AddConstraint", "AT_ReAddConstraint", "AT_AddIndexConstraint"):
        _, con = _unwrap(definition)
        contype = con.get("contype", "")
        cspec = L.ADD_CONSTRAINT.get(contype)
        if cspec is not None:
            action, level, scans = cspec.action, cspec.lock, cspec.scans
        cinfo = _constraint_info(con)
        info["constraint"] = cinfo
        info["not_valid"] = cinfo["not_valid"]
        if cinfo["not_valid"]:
            scans = False  # NOT VALID: existing rows are not checked (VALIDATE later)
        if cinfo.get("using_index"):
            # ADD … USING INDEX reuses a built index: no index build. PRIMARY KEY still
            # sets NOT NULL on its columns, which scans unless they already are.
            scans = False
            if contype == "CONSTR_PRIMARY":
                info["may_scan_for_not_null"] = True
        if contype == "CONSTR_FOREIGN":
            acc.lock(cinfo["referenced_table"], LockLevel.SHARE_ROW_EXCLUSIVE)
    elif subtype == "AT_ColumnDefault":
        info["column_name"] = name
        if definition is None:
            action = "DROP DEFAULT"
        else:
            info["default_volatility"] = _volatility(definition)
    elif subtype == "AT_AlterColumnType":
        _, coldef = _unwrap(definition)
        new_type, base = _type_name(coldef.get("typeName"))
        using = coldef.get("raw_default")
        info.update(
            column_name=name,
            new_type=new_type,
            new_type_name=base,
            using=bool(using),
            # the statement alone does not know the old type: without the schema dbgov
            # assumes a rewrite; with it, locks.type_change_rewrites(old, new) decides
            rewrite_unless_binary_coercible=True,
        )
        schema = _schema()
        lookup = schema.column_type
        old_type = lookup(table, name) if lookup and name else None
        if old_type is not None:
            info["old_type"] = old_type
            # a domain converts like its base type (its constraints are checked, which
            # reads every row, but nothing is rewritten)
            domain_base = schema.domain_base
            old_base = (domain_base(old_type) if domain_base else None) or old_type
            new_base = (domain_base(new_type) if domain_base else None) or new_type
            decided = L.type_change_rewrites(
                old_base, new_base, pg_version=pg, timezone_utc=schema.timezone_utc
            )
            if using and not _same_column(using, name):
                decided = True  # USING computes new values: every row is rewritten
            if decided is not None:
                rewrites = decided
                info["rewrite_unless_binary_coercible"] = False
        checked = schema.constrained_domain
        # without a rewrite, indexes on the column may still be rebuilt and its CHECK
        # constraints verified again (both read the table): details["may_scan"]
        scans = rewrites or bool(checked and checked(new_type))
        info["may_scan"] = not rewrites
        if coldef.get("collClause"):
            info["collation"] = ".".join(_strings(coldef["collClause"].get("collname")))
    elif subtype in ("AT_SetRelOptions", "AT_ResetRelOptions", "AT_ReplaceRelOptions"):
        _, lst = _unwrap(definition)
        names = []
        for item in lst.get("items", ()):
            _, de = _unwrap(item)
            prefix = de.get("defnamespace")
            names.append(f"{prefix}.{de.get('defname')}" if prefix else str(de.get("defname")))
        info["parameters"] = names
        level = L.reloptions_lock(names)
    elif subtype == "AT_AttachPartition":
        _, pcmd = _unwrap(definition)
        part = _rv_name(pcmd.get("name"))
        info["partition"] = part
        if pg < 12:
            level = LockLevel.ACCESS_EXCLUSIVE
        # the partition is locked ACCESS EXCLUSIVE and scanned for the partition
        # constraint (unless a CHECK constraint proves it); the parent is not scanned
        acc.lock(part, LockLevel.ACCESS_EXCLUSIVE, scans=True)
        scans = False
    elif subtype == "AT_DetachPartition":
        _, pcmd = _unwrap(definition)
        part = _rv_name(pcmd.get("name"))
        info["partition"] = part
        if pcmd.get("concurrent"):
            level = LockLevel.SHARE_UPDATE_EXCLUSIVE
            info["_not_transactional"] = True
            info["concurrently"] = True
        acc.lock(part, LockLevel.ACCESS_EXCLUSIVE)
    elif subtype == "AT_DetachPartitionFinalize":
        _, pcmd = _unwrap(definition)
        info["partition"] = _rv_name(pcmd.get("name"))
    elif subtype == "AT_SetTableSpace":
        info["tablespace"] = name
    elif subtype in (
        "AT_SetNotNull",
        "AT_DropNotNull",
        "AT_SetStatistics",
        "AT_SetStorage",
        "AT_SetCompression",
        "AT_AddIdentity",
        "AT_SetIdentity",
        "AT_DropIdentity",
        "AT_SetExpression",
        "AT_DropExpression",
    ):
        info["column_name"] = name
    elif subtype in ("AT_ValidateConstraint", "AT_DropConstraint"):
        info["constraint_name"] = name
        fks = _foreign_keys(table)
        if name and name in fks:
            # VALIDATE reads the referenced table under ROW SHARE; dropping a foreign key
            # removes its triggers from the referenced table: ACCESS EXCLUSIVE there too
            referenced = fks[name].referenced_table
            info["referenced_table"] = referenced
            acc.lock(
                referenced,
                LockLevel.ROW_SHARE if subtype == "AT_ValidateConstraint" else AE,
            )
        elif subtype == "AT_DropConstraint" and info.get("cascade"):
            # a key dropped with CASCADE takes the foreign keys referencing it along
            for other in _referenced_by(table):
                acc.lock(other, AE)
    elif subtype == "AT_AddInherit":
        parent = _rv_name(definition)
        info["parent"] = parent
        acc.lock(parent, LockLevel.SHARE_UPDATE_EXCLUSIVE)  # tablecmds.c ATExecAddInherit
    elif subtype == "AT_DropColumn":
        info["column_name"] = name
        for fk in _foreign_keys(table).values():
            if name in fk.columns:
                acc.lock(fk.referenced_table, AE)  # the column's foreign key goes with it
    elif subtype == "AT_AlterConstraint":
        _, ac = _unwrap(definition)
        info["constraint_name"] = ac.get("conname")
        fks = _foreign_keys(table)
        if ac.get("alterEnforceability") and ac.get("conname") in fks:
            # PostgreSQL 18: [NOT] ENFORCED adds / drops the foreign key's triggers on
            # the referenced table too
            acc.lock(fks[ac["conname"]].referenced_table, AE)
    elif name:
        info["name"] = name

    acc.lock(table, level, rewrites, scans)
    head = {"action": action, "lock": level.value, "rewrites": rewrites, "scans": scans}
    head.update(info)
    return head


def _rename(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    rtype = body.get("renameType", "")
    relation = body.get("relation")
    acc = _Acc()
    new_name = body.get("newname")
    details["new_name"] = new_name
    if body.get("missing_ok"):
        details["if_exists"] = True
    if rtype in ("OBJECT_COLUMN", "OBJECT_ATTRIBUTE"):
        table = _rv_name(relation)
        kind = "ALTER " + _objtype_words(body.get("relationType", "OBJECT_TABLE"))
        details.update(table=table, old_name=body.get("subname"), column_name=body.get("subname"))
        action = "RENAME COLUMN"
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    elif rtype == "OBJECT_TABCONSTRAINT":
        table = _rv_name(relation)
        kind = "ALTER TABLE"
        details.update(
            table=table, old_name=body.get("subname"), constraint_name=body.get("subname")
        )
        action = "RENAME CONSTRAINT"
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    elif rtype == "OBJECT_INDEX":
        index = _rv_name(relation)
        kind = "ALTER INDEX"
        details.update(index=index, old_name=index, relation_kind="index")
        action = "RENAME INDEX"
        # sql-alterindex.html: RENAME takes SHARE UPDATE EXCLUSIVE since PostgreSQL 12
        acc.lock(
            index, L.STATEMENT_LOCKS["RENAME INDEX"][0] if pg >= 12 else LockLevel.ACCESS_EXCLUSIVE
        )
    elif relation and rtype in (
        "OBJECT_TABLE",
        "OBJECT_VIEW",
        "OBJECT_MATVIEW",
        "OBJECT_FOREIGN_TABLE",
        "OBJECT_SEQUENCE",
    ):
        table = _rv_name(relation)
        word = _objtype_words(rtype)
        kind = "ALTER " + word
        details.update(table=table, old_name=table)
        action = "RENAME TABLE" if rtype == "OBJECT_TABLE" else f"RENAME {word}"
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    elif rtype in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE") and relation:
        table = _rv_name(relation)
        kind = "ALTER " + _objtype_words(rtype)
        details.update(table=table, old_name=body.get("subname"))
        action = "RENAME " + _objtype_words(rtype)
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    else:
        word = _objtype_words(rtype)
        kind = "ALTER " + word
        obj = body.get("object")
        details["old_name"] = body.get("subname") or (_object_name(obj) if obj else None)
        action = (
            "RENAME" if rtype != "OBJECT_TYPE" or not body.get("subname") else "RENAME ATTRIBUTE"
        )
    return _make(text, node, kind, acc, details, actions=[action])


def _set_schema(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    acc = _Acc()
    kind = "ALTER " + _objtype_words(body.get("objectType", "OBJECT_TABLE"))
    details["new_schema"] = body.get("newschema")
    if body.get("relation"):
        table = _rv_name(body["relation"])
        details["table"] = table
        _statement_lock(acc, table, "SET SCHEMA")
    return _make(text, node, kind, acc, details, actions=["SET SCHEMA"])


def _index(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    concurrent = bool(body.get("concurrent"))
    columns: list[str] = []
    expressions = 0
    for item in body.get("indexParams", ()):
        _, elem = _unwrap(item)
        if elem.get("name"):
            columns.append(elem["name"])
        else:
            expressions += 1
    details.update(
        index=body.get("idxname"),
        table=table,
        unique=bool(body.get("unique")),
        columns=columns,
        expressions=expressions,
        partial=bool(body.get("whereClause")),
        method=body.get("accessMethod", "btree"),
        include=[_unwrap(i)[1].get("name") for i in body.get("indexIncludingParams", ())],
        if_not_exists=bool(body.get("if_not_exists")),
    )
    if not (body.get("relation") or {}).get("inh", False):
        details["only"] = True
    _statement_lock(acc, table, "CREATE INDEX CONCURRENTLY" if concurrent else "CREATE INDEX")
    kind_of = _schema().relation_kind
    if details.get("only") and kind_of and kind_of(table) == "p":
        # ON ONLY a partitioned table: an invalid index, built later per partition
        acc.locks[table][2] = False
    return _make(
        text,
        node,
        "CREATE INDEX",
        acc,
        details,
        concurrently=concurrent,
        transactional=not concurrent,
    )


def _drop(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    rtype = body.get("removeType", "")
    word = _objtype_words(rtype)
    kind = "DROP " + word
    acc = _Acc()
    objects = [_object_name(o) for o in body.get("objects", ())]
    concurrent = bool(body.get("concurrent"))
    details.update(objects=objects, cascade=body.get("behavior") == "DROP_CASCADE")
    if body.get("missing_ok"):
        details["if_exists"] = True
    if rtype == "OBJECT_INDEX":
        # The lock is on the index's table, which the statement does not name: the
        # relation recorded is the index (details["relation_kind"] = "index").
        details["relation_kind"] = "index"
        level = L.STATEMENT_LOCKS["DROP INDEX CONCURRENTLY" if concurrent else "DROP INDEX"][0]
        for obj in objects:
            acc.lock(obj, level, index_lock=AE, via="index")
    elif rtype in (
        "OBJECT_TABLE",
        "OBJECT_MATVIEW",
        "OBJECT_VIEW",
        "OBJECT_FOREIGN_TABLE",
        "OBJECT_SEQUENCE",
    ):
        for obj in objects:
            _statement_lock(acc, obj, "DROP TABLE")
        for obj in objects:
            # its foreign keys' triggers leave the referenced tables (ACCESS EXCLUSIVE);
            # a partition is detached from its parent, which is locked the same way
            for fk in _foreign_keys(obj).values():
                acc.lock(fk.referenced_table, AE)
            parent = _partition_parent(obj)
            if parent:
                acc.lock(parent, AE)
            if details["cascade"]:
                for other in _referenced_by(obj):
                    acc.lock(other, AE)
                acc.dependents(obj, AE)  # views and other objects built on it go too
    elif rtype == "OBJECT_STATISTIC_EXT":
        for obj in objects:  # the statistics object's table, not named here
            acc.dependents(obj, LockLevel.SHARE_UPDATE_EXCLUSIVE)
    elif rtype in (
        "OBJECT_TYPE",
        "OBJECT_DOMAIN",
        "OBJECT_FUNCTION",
        "OBJECT_PROCEDURE",
        "OBJECT_EXTENSION",
        "OBJECT_FOREIGN_SERVER",
        "OBJECT_SCHEMA",
    ):
        if details["cascade"]:
            # CASCADE drops what uses them: columns of the type / domain, defaults and
            # triggers calling the function, tables of the extension's types …
            for obj in objects:
                acc.dependents(obj, AE)
    elif rtype in ("OBJECT_TRIGGER", "OBJECT_RULE", "OBJECT_POLICY"):
        for obj in objects:
            table, _, name = obj.rpartition(".")
            details.setdefault("names", []).append(name)
            _statement_lock(acc, table, "DROP TRIGGER")
    return _make(
        text,
        node,
        kind,
        acc,
        details,
        concurrently=concurrent,
        transactional=not concurrent,
    )


def _truncate(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    cascade = body.get("behavior") == "DROP_CASCADE"
    for rv in body.get("relations", ()):
        _statement_lock(acc, _rv_name(rv), "TRUNCATE")
    if cascade:  # the tables referencing them are truncated too
        pending = list(acc.tables)
        while pending:
            for other in _referenced_by(pending.pop()):
                if other not in acc.tables:
                    _statement_lock(acc, other, "TRUNCATE")
                    pending.append(other)
    details.update(
        cascade=cascade,
        restart_identity=bool(body.get("restart_seqs")),
    )
    return _make(
        text, node, "TRUNCATE", acc, details, actions=["CASCADE"] if details["cascade"] else ()
    )


def _option_names(params: Iterable[Node] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in params or ():
        _, de = _unwrap(item)
        value = _const(de.get("arg")) if de.get("arg") else True
        if isinstance(value, str) and value.lower() in ("false", "off", "0"):
            value = False
        out[str(de.get("defname", "")).lower()] = value
    return out


def _vacuum(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    opts = _option_names(body.get("options"))
    is_vacuum = bool(body.get("is_vacuumcmd"))
    full = bool(opts.get("full")) and is_vacuum
    kind = "VACUUM" if is_vacuum else "ANALYZE"
    lock_kind = "VACUUM FULL" if full else kind
    rels = [_rv_name(_unwrap(r)[1].get("relation")) for r in body.get("rels", ())]
    for rel in rels:
        _statement_lock(acc, rel, lock_kind)
    if not rels:
        acc.dependents("*", L.STATEMENT_LOCKS[lock_kind][0], via="database")
    details.update(full=full, options=sorted(opts), all_tables=not rels)
    # sql-vacuum.html: "VACUUM cannot be executed inside a transaction block";
    # ANALYZE alone can.
    return _make(
        text,
        node,
        kind,
        acc,
        details,
        actions=["FULL"] if full else (),
        transactional=not is_vacuum,
    )


def _cluster(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    details.update(table=table or None, index=body.get("indexname"))
    if table:
        _statement_lock(acc, table, "CLUSTER")
    # sql-cluster.html: CLUSTER without a table cannot run inside a transaction block
    return _make(text, node, "CLUSTER", acc, details, transactional=bool(table))


def _reindex(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    opts = _option_names(body.get("params"))
    concurrent = bool(opts.get("concurrently"))
    target = body.get("kind", "").removeprefix("REINDEX_OBJECT_")
    details.update(target=target, options=sorted(opts))
    if body.get("relation"):
        rel = _rv_name(body["relation"])
        details["relation_kind"] = target.lower()
        details["name"] = rel
        # sql-reindex.html: REINDEX locks out writes of the table (SHARE) and takes
        # ACCESS EXCLUSIVE on each index it rebuilds, so reads using the index wait;
        # CONCURRENTLY: SHARE UPDATE EXCLUSIVE on both
        level, _rewrites, scans = L.STATEMENT_LOCKS[
            "REINDEX CONCURRENTLY" if concurrent else "REINDEX"
        ]
        index_lock = level if concurrent else AE
        acc.lock(
            rel,
            level,
            scans=scans,
            index_lock=index_lock,
            via="index" if target == "INDEX" else None,
        )
    else:
        details["name"] = body.get("name")
    # sql-reindex.html: REINDEX SCHEMA / DATABASE / SYSTEM and CONCURRENTLY cannot run
    # inside a transaction block.
    transactional = not concurrent and target in ("INDEX", "TABLE")
    return _make(
        text,
        node,
        "REINDEX",
        acc,
        details,
        concurrently=concurrent,
        transactional=transactional,
    )


def _comment(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    objtype = body.get("objtype", "")
    obj = _object_name(body.get("object") or {})
    details.update(object_type=_objtype_words(objtype), object=obj, comment=body.get("comment"))
    if objtype == "OBJECT_COLUMN":
        table, _, column = obj.rpartition(".")
        details.update(table=table, column=column)
        _statement_lock(acc, table, "COMMENT")
    elif objtype in (
        "OBJECT_TABLE",
        "OBJECT_VIEW",
        "OBJECT_MATVIEW",
        "OBJECT_FOREIGN_TABLE",
        "OBJECT_INDEX",
        "OBJECT_SEQUENCE",
    ):
        details["table"] = obj
        _statement_lock(acc, obj, "COMMENT")
    elif objtype in ("OBJECT_TABCONSTRAINT", "OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"):
        # objectaddress.c looks these up under ACCESS SHARE on their table (observed)
        table, _, _name = obj.rpartition(".")
        details["table"] = table
        acc.lock(table, LockLevel.ACCESS_SHARE)
    return _make(text, node, "COMMENT", acc, details)


def _trigger(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    details.update(
        trigger=body.get("trigname"),
        table=table,
        function=".".join(_strings(body.get("funcname"))),
        row=bool(body.get("row")),
        replace=bool(body.get("replace")),
        constraint=bool(body.get("isconstraint")),
    )
    _statement_lock(acc, table, "CREATE TRIGGER")
    kind = "CREATE CONSTRAINT TRIGGER" if body.get("isconstraint") else "CREATE TRIGGER"
    return _make(text, node, kind, acc, details)


def _do(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    for item in body.get("args", ()):
        _, de = _unwrap(item)
        if de.get("defname") == "as":
            details["body"] = _const(de.get("arg"))
        elif de.get("defname") == "language":
            details["language"] = _const(de.get("arg"))
    details.setdefault("language", "plpgsql")
    details["opaque"] = True  # what the block does is not analysed
    return _make(text, node, "DO", None, details)


_TRANSACTION_KINDS = {
    "TRANS_STMT_BEGIN": "BEGIN",
    "TRANS_STMT_START": "BEGIN",
    "TRANS_STMT_COMMIT": "COMMIT",
    "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT",
    "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}


def _transaction(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    kind = _TRANSACTION_KINDS.get(body.get("kind", ""), "TRANSACTION")
    if body.get("chain"):
        details["chain"] = True
    if body.get("savepoint_name"):
        details["savepoint"] = body["savepoint_name"]
    transactional = kind not in ("COMMIT PREPARED", "ROLLBACK PREPARED")
    return _make(text, node, kind, None, details, transactional=transactional)


_DURATION_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)
_UNITS_MS = {"": 1, "us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def _duration_ms(value: Any) -> int | None:
    """PostgreSQL time GUC value → milliseconds ('2s' → 2000, 5000 → 5000)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    m = _DURATION_RE.match(str(value))
    if not m or m.group(2).lower() not in _UNITS_MS:
        return None
    return int(float(m.group(1)) * _UNITS_MS[m.group(2).lower()])


def _set(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    kind_code = body.get("kind", "")
    kind = "RESET" if kind_code.startswith("VAR_RESET") else "SET"
    name = body.get("name") or ("ALL" if kind_code == "VAR_RESET_ALL" else None)
    args = [_const(a) for a in body.get("args", ())]
    value: Any = args[0] if len(args) == 1 else (args or None)
    if kind_code == "VAR_SET_DEFAULT":
        value = "DEFAULT"
    details.update(name=name, value=value, local=bool(body.get("is_local")))
    if name and name.endswith("_timeout") and kind == "SET":
        details["value_ms"] = _duration_ms(value) if value != "DEFAULT" else None
    return _make(text, node, kind, None, details)


def _set_constraints(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    names = [_rv_name(c) for c in body.get("constraints", ())] or ["ALL"]
    details.update(constraints=names, mode="DEFERRED" if body.get("deferred") else "IMMEDIATE")
    return _make(text, node, "SET CONSTRAINTS", None, details)


def _alter_enum(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    details["type"] = ".".join(_strings(body.get("typeName")))
    if body.get("oldVal"):
        details.update(old_value=body["oldVal"], value=body.get("newVal"))
        return _make(text, node, "ALTER TYPE", None, details, actions=["RENAME VALUE"])
    details["value"] = body.get("newVal")
    neighbor = body.get("newValNeighbor")
    if neighbor:
        details["after" if body.get("newValIsAfter") else "before"] = neighbor
    if body.get("skipIfNewValExists"):
        details["if_not_exists"] = True
    # sql-altertype.html: before PostgreSQL 12 "ALTER TYPE … ADD VALUE … cannot be
    # executed inside a transaction block"; from 12 on it can, but the new value
    # cannot be used until the transaction commits.
    return _make(
        text, node, "ALTER TYPE", None, details, actions=["ADD VALUE"], transactional=pg >= 12
    )


def _dml(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    kind = {
        "UpdateStmt": "UPDATE",
        "DeleteStmt": "DELETE",
        "InsertStmt": "INSERT",
        "MergeStmt": "MERGE",
    }[node]
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    details["table"] = table
    _statement_lock(acc, table, kind)
    if kind in ("UPDATE", "DELETE"):
        details["has_where"] = bool(body.get("whereClause"))
    if kind == "UPDATE":
        details["columns"] = [_unwrap(t)[1].get("name") for t in body.get("targetList", ())]
    if kind == "INSERT":
        details["columns"] = [_unwrap(t)[1].get("name") for t in body.get("cols", ())]
        _, sel = _unwrap(body.get("selectStmt"))
        details["from_select"] = bool(sel.get("fromClause"))
        conflict = body.get("onConflictClause") or {}
        if conflict.get("targetList"):
            # ON CONFLICT … DO UPDATE SET a = …, b = …
            details["assignment_lists"] = [_target_names(conflict["targetList"])]
    if kind == "MERGE":
        # each WHEN … THEN UPDATE SET … / INSERT (…) names its columns once
        details["assignment_lists"] = [
            _target_names(_unwrap(w)[1].get("targetList", ()))
            for w in body.get("mergeWhenClauses", ())
        ]
    # tables read by the statement (FROM / USING / WITH / INSERT … SELECT): ACCESS SHARE
    sources = [
        body[k]
        for k in ("fromClause", "usingClause", "withClause", "selectStmt", "sourceRelation")
        if k in body
    ]
    for name, sub in _walk(sources) if sources else ():
        if name == "RangeVar":
            acc.lock(_rv_name(sub), LockLevel.ACCESS_SHARE)
        elif name in ("UpdateStmt", "DeleteStmt", "InsertStmt", "MergeStmt"):
            # a data-modifying WITH query writes its table
            acc.lock(_rv_name(sub.get("relation")), LockLevel.ROW_EXCLUSIVE)
    for sequence in _sequences_written(body):
        acc.lock(sequence, LockLevel.ROW_EXCLUSIVE)
    if kind in ("INSERT", "MERGE", "UPDATE"):
        # new key values are checked against the referenced rows (SELECT … FOR KEY
        # SHARE: ROW SHARE on the referenced table); UPDATE only when it sets the key
        assigned = set(details.get("columns") or ())
        for fk in _foreign_keys(table).values():
            if kind != "UPDATE" or assigned & set(fk.columns):
                acc.lock(fk.referenced_table, LockLevel.ROW_SHARE)
    if kind in ("DELETE", "MERGE"):
        # deleted keys are looked up in the referencing tables (ROW SHARE), whose rows
        # ON DELETE CASCADE / SET NULL / SET DEFAULT change (ROW EXCLUSIVE)
        for other in _referenced_by(table):
            for fk in _foreign_keys(other).values():
                if _same_relation(fk.referenced_table, table):
                    writes = fk.on_delete != "NO ACTION" and fk.on_delete != "RESTRICT"
                    acc.lock(other, LockLevel.ROW_EXCLUSIVE if writes else LockLevel.ROW_SHARE)
    return _make(text, node, kind, acc, details)


def _target_names(targets: Iterable[Node]) -> list[str]:
    """The column names of ResTargets (SET a = …, INSERT (a, b))."""
    return [n for n in (_unwrap(t)[1].get("name") for t in targets) if n]


def _output_names(query: Node | None) -> list[str]:
    """The column names a SELECT produces, where PostgreSQL's naming is certain (an
    alias, a column reference, a function call); others are left out."""
    _, sel = _unwrap(query)
    while sel.get("op") not in (None, "SETOP_NONE") and sel.get("larg"):
        sel = sel["larg"]  # a UNION's columns are named by its first branch
    names: list[str] = []
    for item in sel.get("targetList", ()):
        _, target = _unwrap(item)
        if target.get("name"):
            names.append(target["name"])
            continue
        kind, value = _unwrap(target.get("val"))
        if kind == "TypeCast":
            kind, value = _unwrap(value.get("arg"))
        if kind == "ColumnRef":
            fields = _strings(value.get("fields"))
            if fields and fields[-1] != "*":
                names.append(fields[-1])
        elif kind == "FuncCall":
            names.append(_strings(value.get("funcname"))[-1])
    return names


def _same_relation(a: str, b: str) -> bool:
    def bare(name: str) -> str:
        return name.replace('"', "").lower().removeprefix("public.")

    return bare(a) == bare(b)


def _sequences_written(node: Any) -> list[str]:
    """Sequences ``nextval('s')`` / ``setval('s', …)`` advance (ROW EXCLUSIVE on them)."""
    found: list[str] = []
    for name, sub in _walk(node):
        if name != "FuncCall":
            continue
        fname = _strings(sub.get("funcname"))[-1:]
        if fname and fname[0].lower() in ("nextval", "setval"):
            args = sub.get("args") or ()
            value = _const(args[0]) if args else None
            if isinstance(value, str) and value:
                found.append(value)
    return found


def _select(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    locking = bool(body.get("lockingClause"))
    kind_lock = "SELECT FOR UPDATE" if locking else "SELECT"
    for name, sub in _walk(body):
        if name == "RangeVar":
            _statement_lock(acc, _rv_name(sub), kind_lock)
        elif name == "FuncCall":
            fname = ".".join(_strings(sub.get("funcname"))).lower()
            if fname.rsplit(".", 1)[-1] == "set_config":
                args = [_const(a) for a in sub.get("args", ())]
                if args and isinstance(args[0], str):
                    details.setdefault("set_config", {})[args[0]] = (
                        args[1] if len(args) > 1 else None
                    )
            details.setdefault("functions", []).append(fname)
    for sequence in _sequences_written(body):
        acc.lock(sequence, LockLevel.ROW_EXCLUSIVE)
    if body.get("intoClause"):
        into = _rv_name(_unwrap({"IntoClause": body["intoClause"]})[1].get("rel"))
        # SELECT … INTO t creates t, as CREATE TABLE t AS SELECT … does
        details.update(into=into, table=into, output_columns=_output_names({"s": body}))
        return _make(text, node, "CREATE TABLE AS", acc, details)
    return _make(text, node, "SELECT", acc, details)


def _lock(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    level = L.LOCK_MODE_NUMBERS.get(body.get("mode", 8), LockLevel.ACCESS_EXCLUSIVE)
    for rv in body.get("relations", ()):
        acc.lock(_rv_name(rv), level)
    details.update(mode=level.value, nowait=bool(body.get("nowait")))
    return _make(text, node, "LOCK", acc, details)


def _copy(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    is_from = bool(body.get("is_from"))
    if body.get("relation"):
        _statement_lock(acc, _rv_name(body["relation"]), "COPY FROM" if is_from else "COPY TO")
    details["direction"] = "FROM" if is_from else "TO"
    return _make(text, node, "COPY", acc, details)


def _refresh(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    acc = _Acc()
    concurrent = bool(body.get("concurrent"))
    view = _rv_name(body.get("relation"))
    _statement_lock(
        acc,
        view,
        "REFRESH MATERIALIZED VIEW CONCURRENTLY" if concurrent else "REFRESH MATERIALIZED VIEW",
    )
    details["view"] = view
    return _make(text, node, "REFRESH MATERIALIZED VIEW", acc, details, concurrently=concurrent)


def _table_lock_stmt(kind: str, lock_kind: str, key: str = "relation") -> Any:
    def handler(
        text: str, node: str, body: Node, details: dict[str, Any], pg: int
    ) -> StatementFacts:
        acc = _Acc()
        table = _rv_name(body.get(key))
        if table:
            details["table"] = table
            _statement_lock(acc, table, lock_kind)
        return _make(text, node, kind, acc, details)

    return handler


def _create_stats(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    acc = _Acc()
    for rv in body.get("relations", ()):
        _statement_lock(acc, _rv_name(rv), "CREATE STATISTICS")
    return _make(text, node, "CREATE STATISTICS", acc, details)


def _named(kind: str, *, transactional: bool = True, name_key: str | None = None) -> Any:
    def handler(
        text: str, node: str, body: Node, details: dict[str, Any], pg: int
    ) -> StatementFacts:
        if name_key and body.get(name_key) is not None:
            value = body[name_key]
            details["name"] = (
                _rv_name(value)
                if isinstance(value, dict) and "relname" in value
                else (".".join(_strings(value)) if isinstance(value, list) else value)
            )
        if body.get("if_not_exists"):
            details["if_not_exists"] = True
        if body.get("missing_ok"):
            details["if_exists"] = True
        return _make(text, node, kind, None, details, transactional=transactional)

    return handler


def _create_function(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    details.update(name=".".join(_strings(body.get("funcname"))), replace=bool(body.get("replace")))
    kind = "CREATE PROCEDURE" if body.get("is_procedure") else "CREATE FUNCTION"
    return _make(text, node, kind, None, details)


def _create_table_as(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    acc = _Acc()
    _, into = _unwrap({"IntoClause": body.get("into") or {}})
    details["table"] = _rv_name(into.get("rel"))
    details["output_columns"] = _strings(into.get("colNames")) or _output_names(body.get("query"))
    for name, sub in _walk(body.get("query")):
        if name == "RangeVar":
            _statement_lock(acc, _rv_name(sub), "SELECT")
    kind = (
        "CREATE MATERIALIZED VIEW" if body.get("objtype") == "OBJECT_MATVIEW" else "CREATE TABLE AS"
    )
    return _make(text, node, kind, acc, details)


def _view(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    view = _rv_name(body.get("view"))
    details.update(
        view=view,
        replace=bool(body.get("replace")),
        output_columns=_strings(body.get("aliases")) or _output_names(body.get("query")),
    )
    acc = _Acc()
    if details["replace"]:
        acc.lock(view, AE)  # replacing an existing view's query (view.c)
    for name, sub in _walk(body.get("query")):
        if name == "RangeVar":
            acc.lock(_rv_name(sub), LockLevel.ACCESS_SHARE)
    return _make(text, node, "CREATE VIEW", acc, details)


def _alter_domain(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    subtype = body.get("subtype", "")
    action = {
        "T": "SET DEFAULT",
        "N": "DROP NOT NULL",
        "O": "SET NOT NULL",
        "C": "ADD CONSTRAINT",
        "X": "DROP CONSTRAINT",
        "V": "VALIDATE CONSTRAINT",
    }.get(subtype, "ALTER")
    details["domain"] = ".".join(_strings(body.get("typeName")))
    if subtype == "C":
        _, con = _unwrap(body.get("def"))
        details["constraint"] = _constraint_info(con)
        if con.get("skip_validation"):
            details["constraint"]["not_valid"] = True
    # ADD CONSTRAINT / SET NOT NULL check every column of the domain type in every
    # table (typecmds.c: SHARE lock on each such table) — tables not named here.
    details["checks_all_columns"] = subtype in ("C", "O", "V") and not (
        subtype == "C" and details.get("constraint", {}).get("not_valid")
    )
    acc = _Acc()
    if details["checks_all_columns"]:
        acc.dependents(details["domain"], LockLevel.SHARE)
    return _make(text, node, "ALTER DOMAIN", acc, details, actions=[action])


def _create_domain(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    type_sql, _ = _type_name(body.get("typeName"))
    cons = [_unwrap(c)[1].get("contype") for c in body.get("constraints", ())]
    details.update(
        domain=".".join(_strings(body.get("domainname"))),
        base_type=type_sql,
        has_check="CONSTR_CHECK" in cons,
        not_null="CONSTR_NOTNULL" in cons,
    )
    return _make(text, node, "CREATE DOMAIN", None, details)


def _create_enum(
    text: str, node: str, body: Node, details: dict[str, Any], pg: int
) -> StatementFacts:
    details.update(type=".".join(_strings(body.get("typeName"))), values=_strings(body.get("vals")))
    return _make(text, node, "CREATE TYPE", None, details)


def _explain(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    opts = _option_names(body.get("options"))
    details["analyze"] = bool(opts.get("analyze"))
    return _make(text, node, "EXPLAIN", None, details)


def _grant(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    return _make(text, node, "GRANT" if body.get("is_grant") else "REVOKE", None, details)


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
}


def _define(text: str, node: str, body: Node, details: dict[str, Any], pg: int) -> StatementFacts:
    kind = "CREATE " + _objtype_words(body.get("kind", "OBJECT_TYPE"))
    details["name"] = ".".join(_strings(body.get("defnames")))
    return _make(text, node, kind, None, details)


_HANDLERS["DefineStmt"] = _define
