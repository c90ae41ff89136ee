"""Statements about named objects: RENAME, SET SCHEMA, DROP, TRUNCATE, COMMENT,
triggers, domains, enum types, and the CREATE statements that only name something."""

from __future__ import annotations

from typing import Any

from dbgov.analysis import locks as L
from dbgov.analysis.details import (
    AlterDomainDetail,
    CommentDetail,
    CreateDomainDetail,
    Detail,
    DropDetail,
    EnumDetail,
    NamedDetail,
    RenameDetail,
    TriggerDetail,
    TruncateDetail,
)
from dbgov.analysis.model import LockLevel, StatementFacts

from .columns import _constraint_info
from .context import (
    AE,
    _Acc,
    _foreign_keys,
    _make,
    _partition_parent,
    _referenced_by,
    _statement_lock,
)
from .tree import Node, _object_name, _objtype_words, _rv_name, _strings, _type_name, _unwrap


def _rename(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    rtype = body.get("renameType", "")
    relation = body.get("relation")
    acc = _Acc()
    details = RenameDetail(new_name=body.get("newname"), if_exists=bool(body.get("missing_ok")))
    if rtype in ("OBJECT_COLUMN", "OBJECT_ATTRIBUTE"):
        table = _rv_name(relation)
        kind = "ALTER " + _objtype_words(body.get("relationType", "OBJECT_TABLE"))
        details.table = table
        details.old_name = body.get("subname")
        details.column_name = body.get("subname")
        action = "RENAME COLUMN"
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    elif rtype == "OBJECT_TABCONSTRAINT":
        table = _rv_name(relation)
        kind = "ALTER TABLE"
        details.table = table
        details.old_name = body.get("subname")
        details.constraint_name = body.get("subname")
        action = "RENAME CONSTRAINT"
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    elif rtype == "OBJECT_INDEX":
        index = _rv_name(relation)
        kind = "ALTER INDEX"
        details.index = index
        details.old_name = index
        details.relation_kind = "index"
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
        details.table = table
        details.old_name = table
        action = "RENAME TABLE" if rtype == "OBJECT_TABLE" else f"RENAME {word}"
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    elif rtype in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE") and relation:
        table = _rv_name(relation)
        kind = "ALTER " + _objtype_words(rtype)
        details.table = table
        details.old_name = body.get("subname")
        action = "RENAME " + _objtype_words(rtype)
        acc.lock(table, LockLevel.ACCESS_EXCLUSIVE)
    else:
        word = _objtype_words(rtype)
        kind = "ALTER " + word
        obj = body.get("object")
        details.old_name = body.get("subname") or (_object_name(obj) if obj else None)
        action = (
            "RENAME" if rtype != "OBJECT_TYPE" or not body.get("subname") else "RENAME ATTRIBUTE"
        )
    return _make(text, node, kind, acc, details, actions=[action])


def _set_schema(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    kind = "ALTER " + _objtype_words(body.get("objectType", "OBJECT_TABLE"))
    details = RenameDetail(new_schema=body.get("newschema"))
    if body.get("relation"):
        table = _rv_name(body["relation"])
        details.table = table
        _statement_lock(acc, table, "SET SCHEMA")
    return _make(text, node, kind, acc, details, actions=["SET SCHEMA"])


def _drop(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    rtype = body.get("removeType", "")
    word = _objtype_words(rtype)
    kind = "DROP " + word
    acc = _Acc()
    objects = [_object_name(o) for o in body.get("objects", ())]
    concurrent = bool(body.get("concurrent"))
    details = DropDetail(
        objects=tuple(objects),
        cascade=body.get("behavior") == "DROP_CASCADE",
        if_exists=bool(body.get("missing_ok")),
    )
    if rtype == "OBJECT_INDEX":
        # The lock is on the index's table, which the statement does not name: the
        # relation recorded is the index (details.relation_kind = "index").
        details.relation_kind = "index"
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
            if details.cascade:
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
        if details.cascade:
            # CASCADE drops what uses them: columns of the type / domain, defaults and
            # triggers calling the function, tables of the extension's types …
            for obj in objects:
                acc.dependents(obj, AE)
    elif rtype in ("OBJECT_TRIGGER", "OBJECT_RULE", "OBJECT_POLICY"):
        names = []
        for obj in objects:
            table, _, name = obj.rpartition(".")
            names.append(name)
            _statement_lock(acc, table, "DROP TRIGGER")
        details.names = tuple(names)
    return _make(
        text,
        node,
        kind,
        acc,
        details,
        concurrently=concurrent,
        transactional=not concurrent,
    )


def _truncate(text: str, node: str, body: Node, pg: int) -> StatementFacts:
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
    details = TruncateDetail(cascade=cascade, restart_identity=bool(body.get("restart_seqs")))
    return _make(
        text, node, "TRUNCATE", acc, details, actions=["CASCADE"] if details.cascade else ()
    )


def _comment(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    objtype = body.get("objtype", "")
    obj = _object_name(body.get("object") or {})
    details = CommentDetail(
        object_type=_objtype_words(objtype), object=obj, comment=body.get("comment")
    )
    if objtype == "OBJECT_COLUMN":
        table, _, column = obj.rpartition(".")
        details.table = table
        details.column = column
        _statement_lock(acc, table, "COMMENT")
    elif objtype in (
        "OBJECT_TABLE",
        "OBJECT_VIEW",
        "OBJECT_MATVIEW",
        "OBJECT_FOREIGN_TABLE",
        "OBJECT_INDEX",
        "OBJECT_SEQUENCE",
    ):
        details.table = obj
        _statement_lock(acc, obj, "COMMENT")
    elif objtype in ("OBJECT_TABCONSTRAINT", "OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"):
        # objectaddress.c looks these up under ACCESS SHARE on their table (observed)
        table, _, _name = obj.rpartition(".")
        details.table = table
        acc.lock(table, LockLevel.ACCESS_SHARE)
    return _make(text, node, "COMMENT", acc, details)


def _trigger(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    details = TriggerDetail(
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


def _alter_domain(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    subtype = body.get("subtype", "")
    action = {
        "T": "SET DEFAULT",
        "N": "DROP NOT NULL",
        "O": "SET NOT NULL",
        "C": "ADD CONSTRAINT",
        "X": "DROP CONSTRAINT",
        "V": "VALIDATE CONSTRAINT",
    }.get(subtype, "ALTER")
    details = AlterDomainDetail(domain=".".join(_strings(body.get("typeName"))))
    if subtype == "C":
        _, con = _unwrap(body.get("def"))
        details.constraint = _constraint_info(con)
        if con.get("skip_validation"):
            details.constraint.not_valid = True
    # ADD CONSTRAINT / SET NOT NULL check every column of the domain type in every
    # table (typecmds.c: SHARE lock on each such table) — tables not named here.
    details.checks_all_columns = subtype in ("C", "O", "V") and not (
        subtype == "C" and details.constraint is not None and details.constraint.not_valid
    )
    acc = _Acc()
    if details.checks_all_columns:
        acc.dependents(details.domain, LockLevel.SHARE)
    return _make(text, node, "ALTER DOMAIN", acc, details, actions=[action])


def _create_domain(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    type_sql, _ = _type_name(body.get("typeName"))
    cons = [_unwrap(c)[1].get("contype") for c in body.get("constraints", ())]
    details = CreateDomainDetail(
        domain=".".join(_strings(body.get("domainname"))),
        base_type=type_sql,
        has_check="CONSTR_CHECK" in cons,
        not_null="CONSTR_NOTNULL" in cons,
    )
    return _make(text, node, "CREATE DOMAIN", None, details)


def _create_enum(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    details = EnumDetail(
        type=".".join(_strings(body.get("typeName"))), values=tuple(_strings(body.get("vals")))
    )
    return _make(text, node, "CREATE TYPE", None, details)


def _alter_enum(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    details = EnumDetail(type=".".join(_strings(body.get("typeName"))))
    if body.get("oldVal"):
        details.old_value = body["oldVal"]
        details.value = body.get("newVal")
        return _make(text, node, "ALTER TYPE", None, details, actions=["RENAME VALUE"])
    details.value = body.get("newVal")
    neighbor = body.get("newValNeighbor")
    if neighbor and body.get("newValIsAfter"):
        details.after = neighbor
    elif neighbor:
        details.before = neighbor
    if body.get("skipIfNewValExists"):
        details.if_not_exists = True
    # sql-altertype.html: before PostgreSQL 12 "ALTER TYPE … ADD VALUE … cannot be
    # executed inside a transaction block"; from 12 on it can, but the new value
    # cannot be used until the transaction commits.
    return _make(
        text, node, "ALTER TYPE", None, details, actions=["ADD VALUE"], transactional=pg >= 12
    )


def _named(kind: str, *, transactional: bool = True, name_key: str | None = None) -> Any:
    def handler(text: str, node: str, body: Node, pg: int) -> StatementFacts:
        details = NamedDetail()
        if name_key and body.get(name_key) is not None:
            value = body[name_key]
            details.name = (
                _rv_name(value)
                if isinstance(value, dict) and "relname" in value
                else (".".join(_strings(value)) if isinstance(value, list) else value)
            )
        if body.get("if_not_exists"):
            details.if_not_exists = True
        if body.get("missing_ok"):
            details.if_exists = True
        return _make(text, node, kind, None, details, transactional=transactional)

    return handler


def _define(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    kind = "CREATE " + _objtype_words(body.get("kind", "OBJECT_TYPE"))
    details = NamedDetail(name=".".join(_strings(body.get("defnames"))))
    return _make(text, node, kind, None, details)


def _create_function(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    details = NamedDetail(
        name=".".join(_strings(body.get("funcname"))), replace=bool(body.get("replace"))
    )
    kind = "CREATE PROCEDURE" if body.get("is_procedure") else "CREATE FUNCTION"
    return _make(text, node, kind, None, details)


def _create_stats(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    for rv in body.get("relations", ()):
        _statement_lock(acc, _rv_name(rv), "CREATE STATISTICS")
    return _make(text, node, "CREATE STATISTICS", acc, Detail())


def _table_lock_stmt(kind: str, lock_kind: str, key: str = "relation") -> Any:
    def handler(text: str, node: str, body: Node, pg: int) -> StatementFacts:
        acc = _Acc()
        details = Detail()
        table = _rv_name(body.get(key))
        if table:
            details.table = table
            _statement_lock(acc, table, lock_kind)
        return _make(text, node, kind, acc, details)

    return handler
