"""Index builds and maintenance: CREATE INDEX, REINDEX, CLUSTER, VACUUM / ANALYZE,
REFRESH MATERIALIZED VIEW."""

from __future__ import annotations

from dbgov.analysis import locks as L
from dbgov.analysis.details import (
    ClusterDetail,
    IndexDetail,
    ReindexDetail,
    VacuumDetail,
    ViewDetail,
)
from dbgov.analysis.model import StatementFacts

from .context import AE, _Acc, _make, _schema, _statement_lock
from .tree import Node, _option_names, _rv_name, _unwrap


def _index(text: str, node: str, body: Node, pg: int) -> StatementFacts:
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
    details = IndexDetail(
        index=body.get("idxname"),
        table=table,
        unique=bool(body.get("unique")),
        columns=tuple(columns),
        expressions=expressions,
        partial=bool(body.get("whereClause")),
        method=body.get("accessMethod", "btree"),
        include=tuple(
            _unwrap(i)[1].get("name") or "" for i in body.get("indexIncludingParams", ())
        ),
        if_not_exists=bool(body.get("if_not_exists")),
        only=not (body.get("relation") or {}).get("inh", False),
    )
    _statement_lock(acc, table, "CREATE INDEX CONCURRENTLY" if concurrent else "CREATE INDEX")
    kind_of = _schema().relation_kind
    if details.only and kind_of and kind_of(table) == "p":
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


def _vacuum(text: str, node: str, body: Node, pg: int) -> StatementFacts:
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
    details = VacuumDetail(full=full, options=tuple(sorted(opts)), all_tables=not rels)
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


def _cluster(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    details = ClusterDetail(table=table or None, index=body.get("indexname"))
    if table:
        _statement_lock(acc, table, "CLUSTER")
    # sql-cluster.html: CLUSTER without a table cannot run inside a transaction block
    return _make(text, node, "CLUSTER", acc, details, transactional=bool(table))


def _reindex(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    opts = _option_names(body.get("params"))
    concurrent = bool(opts.get("concurrently"))
    target = body.get("kind", "").removeprefix("REINDEX_OBJECT_")
    details = ReindexDetail(target=target, options=tuple(sorted(opts)))
    if body.get("relation"):
        rel = _rv_name(body["relation"])
        details.relation_kind = target.lower()
        details.name = rel
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
        details.name = body.get("name")
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


def _refresh(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    concurrent = bool(body.get("concurrent"))
    view = _rv_name(body.get("relation"))
    _statement_lock(
        acc,
        view,
        "REFRESH MATERIALIZED VIEW CONCURRENTLY" if concurrent else "REFRESH MATERIALIZED VIEW",
    )
    details = ViewDetail(view=view, table=view)
    return _make(text, node, "REFRESH MATERIALIZED VIEW", acc, details, concurrently=concurrent)
