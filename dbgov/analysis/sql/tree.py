"""Reading libpg_query's JSON parse tree: parsing a script into statements (with their
comments, lines and offsets) and small helpers over the tree's nodes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pglast import parser as _pg

try:  # 2-3x faster to decode libpg_query's JSON parse tree; json is the fallback
    from orjson import loads as _json_loads
except ImportError:  # pragma: no cover
    _json_loads = json.loads  # type: ignore[assignment]

from dbgov.analysis.details import ParseErrorDetail
from dbgov.analysis.model import StatementFacts

Node = dict[str, Any]


_COMMENT_RE = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


def _error_facts(script: str, message: str, index: int | None) -> StatementFacts:
    details = ParseErrorDetail()
    if index is not None and index >= 0:
        before = script[:index]
        line = before.count("\n") + 1
        column = index - (before.rfind("\n") + 1) + 1
        message = f"{message} (line {line}, column {column})"
        details = ParseErrorDetail(
            line=line, error_index=index, error_line=line, error_column=column
        )
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


def _option_names(params: Iterable[Node] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in params or ():
        _, de = _unwrap(item)
        value = _const(de.get("arg")) if de.get("arg") else True
        if isinstance(value, str) and value.lower() in ("false", "off", "0"):
            value = False
        out[str(de.get("defname", "")).lower()] = value
    return out


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
