"""Column and constraint definitions: types, defaults (their text and volatility, from
PostgreSQL's pg_proc data or the schema), NOT NULL, identity, references."""

from __future__ import annotations

import functools
from typing import Any

from pglast import parser as _pg

from dbgov.analysis.details import ColumnDef, ConstraintDef

from .context import _OFFSET, _schema
from .tree import _SERIAL_TYPES, Node, _rv_name, _strings, _type_name, _unwrap, _walk

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


def _constraint_info(con: Node, column: str | None = None) -> ConstraintDef:
    contype = con.get("contype", "")
    keys = _strings(con.get("keys")) or _strings(con.get("fk_attrs"))
    if not keys and column:
        keys = [column]
    info = ConstraintDef(
        type=str(_CONSTRAINT_WORDS.get(contype, contype)),
        name=con.get("conname"),
        columns=tuple(keys),
        not_valid=bool(con.get("skip_validation")),
        deferrable=bool(con.get("deferrable")),
        initially_deferred=bool(con.get("initdeferred")),
        using_index=con.get("indexname") or None,
        partial=bool(con.get("where_clause")),
    )
    if contype == "CONSTR_FOREIGN":
        info.referenced_table = _rv_name(con.get("pktable"))
        info.referenced_columns = tuple(_strings(con.get("pk_attrs")))
        info.on_delete = _FK_ACTIONS.get(con.get("fk_del_action", "a"), "NO ACTION")
        info.on_update = _FK_ACTIONS.get(con.get("fk_upd_action", "a"), "NO ACTION")
    if contype == "CONSTR_PRIMARY" or contype == "CONSTR_UNIQUE":
        info.include = tuple(_strings(con.get("including")))
    if contype == "CONSTR_EXCLUSION":
        info.method = con.get("access_method", "gist")
    if contype == "CONSTR_CHECK":
        # CHECK (col IS NOT NULL): from PostgreSQL 12 a valid one lets SET NOT NULL skip
        # its scan (sql-altertable.html, SET/DROP NOT NULL)
        name, test = _unwrap(con.get("raw_expr"))
        if name == "NullTest" and test.get("nulltesttype") == "IS_NOT_NULL":
            arg_name, arg = _unwrap(test.get("arg"))
            if arg_name == "ColumnRef":
                fields = _strings(arg.get("fields"))
                if fields:
                    info.not_null_column = fields[-1]
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


def column_info(coldef: Node, sql: str = "", offset: int | None = None) -> ColumnDef:
    """The facts of a ColumnDef body: name, type, NOT NULL, default, identity, …"""
    type_sql, base = _type_name(coldef.get("typeName"))
    info = ColumnDef(
        name=coldef.get("colname") or "",
        type=type_sql,
        type_name=base,
        not_null=bool(coldef.get("is_not_null")),
        serial=base.lower() in _SERIAL_TYPES,
    )
    if coldef.get("collClause"):
        info.collation = ".".join(_strings(coldef["collClause"].get("collname")))
    if coldef.get("raw_default"):
        info.has_default = True
        info.default_volatility = _volatility(coldef["raw_default"])
    for item in coldef.get("constraints", ()):
        _, con = _unwrap(item)
        contype = con.get("contype")
        if contype == "CONSTR_NOTNULL":
            info.not_null = True
        elif contype == "CONSTR_DEFAULT":
            info.has_default = True
            info.default_volatility = _volatility(con.get("raw_expr"))
            info.default_null = _is_null(con.get("raw_expr"))
            if sql:
                start = _OFFSET[0] if offset is None else offset
                info.default = _default_text(sql, con.get("location", -1) - start)
        elif contype == "CONSTR_IDENTITY":
            info.identity = "ALWAYS" if con.get("generated_when") == "a" else "BY DEFAULT"
            info.not_null = True
        elif contype == "CONSTR_GENERATED":
            info.generated = "VIRTUAL" if con.get("generated_kind") == "v" else "STORED"
        elif contype == "CONSTR_PRIMARY":
            info.primary_key = True
            info.not_null = True
        elif contype == "CONSTR_UNIQUE":
            info.unique = True
        elif contype == "CONSTR_CHECK":
            info.check = True
        elif contype == "CONSTR_FOREIGN":
            info.references = _constraint_info(con, info.name)
    if info.serial:
        info.not_null = True
        info.default_volatility = "volatile"
    if info.default_volatility is not None:
        info.default_volatile = info.default_volatility in ("volatile", "unknown")
    return info
