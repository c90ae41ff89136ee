"""Queries and data changes: UPDATE / DELETE / INSERT / MERGE (with the foreign keys
they check), SELECT (set_config, SELECT … INTO), CREATE TABLE AS, CREATE VIEW, LOCK,
COPY, EXPLAIN."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbgov.analysis import locks as L
from dbgov.analysis.details import (
    CopyDetail,
    DmlDetail,
    ExplainDetail,
    LockDetail,
    QueryDetail,
    SelectDetail,
    ViewDetail,
)
from dbgov.analysis.model import LockLevel, StatementFacts

from .context import AE, _Acc, _foreign_keys, _make, _referenced_by, _statement_lock
from .tree import Node, _const, _option_names, _rv_name, _strings, _unwrap, _walk


def _dml(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    kind = {
        "UpdateStmt": "UPDATE",
        "DeleteStmt": "DELETE",
        "InsertStmt": "INSERT",
        "MergeStmt": "MERGE",
    }[node]
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    details = DmlDetail(table=table)
    _statement_lock(acc, table, kind)
    if kind in ("UPDATE", "DELETE"):
        details.has_where = bool(body.get("whereClause"))
    if kind == "UPDATE":
        details.columns = tuple(_unwrap(t)[1].get("name") for t in body.get("targetList", ()))
    if kind == "INSERT":
        details.columns = tuple(_unwrap(t)[1].get("name") for t in body.get("cols", ()))
        _, sel = _unwrap(body.get("selectStmt"))
        details.from_select = bool(sel.get("fromClause"))
        conflict = body.get("onConflictClause") or {}
        if conflict.get("targetList"):
            # ON CONFLICT … DO UPDATE SET a = …, b = …
            details.assignment_lists = (_target_names(conflict["targetList"]),)
    if kind == "MERGE":
        # each WHEN … THEN UPDATE SET … / INSERT (…) names its columns once
        details.assignment_lists = tuple(
            _target_names(_unwrap(w)[1].get("targetList", ()))
            for w in body.get("mergeWhenClauses", ())
        )
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
        assigned = set(details.columns or ())
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


def _target_names(targets: Iterable[Node]) -> tuple[str, ...]:
    """The column names of ResTargets (SET a = …, INSERT (a, b))."""
    return tuple(n for n in (_unwrap(t)[1].get("name") for t in targets) if n)


def _output_names(query: Node | None) -> tuple[str, ...]:
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
    return tuple(names)


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


def _select(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    details = SelectDetail()
    functions: list[str] = []
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
                    details.set_config[args[0]] = args[1] if len(args) > 1 else None
            functions.append(fname)
    details.functions = tuple(functions)
    for sequence in _sequences_written(body):
        acc.lock(sequence, LockLevel.ROW_EXCLUSIVE)
    if body.get("intoClause"):
        into = _rv_name(_unwrap({"IntoClause": body["intoClause"]})[1].get("rel"))
        # SELECT … INTO t creates t, as CREATE TABLE t AS SELECT … does
        details.into = into
        details.table = into
        details.output_columns = _output_names({"s": body})
        return _make(text, node, "CREATE TABLE AS", acc, details)
    return _make(text, node, "SELECT", acc, details)


def _lock(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    level = L.LOCK_MODE_NUMBERS.get(body.get("mode", 8), LockLevel.ACCESS_EXCLUSIVE)
    for rv in body.get("relations", ()):
        acc.lock(_rv_name(rv), level)
    details = LockDetail(mode=level.value, nowait=bool(body.get("nowait")))
    return _make(text, node, "LOCK", acc, details)


def _copy(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    is_from = bool(body.get("is_from"))
    if body.get("relation"):
        _statement_lock(acc, _rv_name(body["relation"]), "COPY FROM" if is_from else "COPY TO")
    details = CopyDetail(direction="FROM" if is_from else "TO")
    return _make(text, node, "COPY", acc, details)


def _create_table_as(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    _, into = _unwrap({"IntoClause": body.get("into") or {}})
    details = QueryDetail(
        table=_rv_name(into.get("rel")),
        output_columns=tuple(_strings(into.get("colNames"))) or _output_names(body.get("query")),
    )
    for name, sub in _walk(body.get("query")):
        if name == "RangeVar":
            _statement_lock(acc, _rv_name(sub), "SELECT")
    kind = (
        "CREATE MATERIALIZED VIEW" if body.get("objtype") == "OBJECT_MATVIEW" else "CREATE TABLE AS"
    )
    return _make(text, node, kind, acc, details)


def _view(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    view = _rv_name(body.get("view"))
    details = ViewDetail(
        view=view,
        replace=bool(body.get("replace")),
        output_columns=tuple(_strings(body.get("aliases"))) or _output_names(body.get("query")),
    )
    acc = _Acc()
    if details.replace:
        acc.lock(view, AE)  # replacing an existing view's query (view.c)
    for name, sub in _walk(body.get("query")):
        if name == "RangeVar":
            acc.lock(_rv_name(sub), LockLevel.ACCESS_SHARE)
    return _make(text, node, "CREATE VIEW", acc, details)


def _explain(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    opts = _option_names(body.get("options"))
    details = ExplainDetail(analyze=bool(opts.get("analyze")))
    return _make(text, node, "EXPLAIN", None, details)
