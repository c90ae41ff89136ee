"""The plan tree of one EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) document, for people.

One :class:`PlanNode` per plan node, in pre-order, with what pev2 and pgMustard show:
estimated and actual rows *per loop* (PostgreSQL reports both per loop; comparing a
per-loop estimate with an all-loops actual turns every inner side of a nested loop
red), the misestimate factor, rows removed by filters, sort method and memory, heap
fetches, I/O timing, temp buffers, exclusive time and buffers and their share of the
whole. The same tree is drawn as an HTML table (admin) and as text (terminal).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MISESTIMATE_FACTOR", "PlanNode", "PlanTree", "plan_tree", "text_tree"]

# A node whose per-loop estimate is off by this factor or more is flagged; the
# planner's choices start to go wrong around an order of magnitude (pgMustard, pev2).
MISESTIMATE_FACTOR = 10.0

_DETAIL_KEYS = (
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "Sort Key",
    "Group Key",
    "Presorted Key",
    "Cache Key",
)
# Subplans evaluated inside the parent's expressions are part of its time already;
# an InitPlan runs once before it. Both are kept out of the parent's child time as
# before (their time shows on their own rows).
_NOT_CHILD_TIME = {"InitPlan", "SubPlan"}


def _num(node: dict[str, Any], key: str) -> float | None:
    value = node.get(key)
    return None if value is None else float(value)


@dataclass
class PlanNode:
    id: int
    depth: int
    parent: int | None
    node_type: str
    relation: str
    index: str
    details: list[tuple[str, str]]
    # Per loop, as PostgreSQL reports them.
    plan_rows: float | None
    actual_rows: float | None
    loops: int
    total_ms: float | None  # inclusive, all loops
    self_ms: float | None  # exclusive, all loops
    shared_hit: int = 0
    shared_read: int = 0
    shared_dirtied: int = 0
    shared_written: int = 0
    temp_read: int = 0
    temp_written: int = 0
    self_blocks: int = 0  # shared hit + read of this node alone
    io_read_ms: float | None = None
    io_write_ms: float | None = None
    rows_removed_by_filter: float | None = None  # all loops
    rows_removed_by_recheck: float | None = None
    rows_removed_by_join_filter: float | None = None
    heap_fetches: int | None = None
    sort_method: str = ""
    sort_space_kb: int | None = None
    sort_space_type: str = ""
    workers: int | None = None
    never_executed: bool = False
    time_share: float = 0.0  # of the query's time, 0..1
    buffer_share: float = 0.0  # of the query's shared blocks, 0..1
    slowest: bool = False
    worst_estimate: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def total_rows(self) -> float | None:
        """Actual rows over all loops."""
        return None if self.actual_rows is None else self.actual_rows * self.loops

    @property
    def misestimate(self) -> float | None:
        """How far the per-loop estimate was off (x times, >= 1), None if not run."""
        if self.plan_rows is None or self.actual_rows is None or self.never_executed:
            return None
        est, act = max(self.plan_rows, 1.0), max(self.actual_rows, 1.0)
        return max(est, act) / min(est, act)

    @property
    def underestimated(self) -> bool:
        return (self.actual_rows or 0.0) > (self.plan_rows or 0.0)

    @property
    def misestimated(self) -> bool:
        return (self.misestimate or 0.0) >= MISESTIMATE_FACTOR

    @property
    def label(self) -> str:
        """ "Index Scan using users_pkey on users": the node in one line."""
        text = self.node_type
        if self.index:
            text += f" using {self.index}"
        if self.relation:
            text += f" on {self.relation}"
        return text

    @property
    def align_key(self) -> str:
        """What makes two nodes "the same step" in a before/after comparison: a scan
        of the same table whatever the access path, else the node type."""
        if self.relation:
            return f"scan:{self.relation}"
        return self.node_type

    @property
    def sort_text(self) -> str:
        if not self.sort_method:
            return ""
        space = (
            f", {self.sort_space_kb} kB {self.sort_space_type.lower()}"
            if self.sort_space_kb is not None
            else ""
        )
        return f"{self.sort_method}{space}"

    @property
    def io_ms(self) -> float | None:
        if self.io_read_ms is None and self.io_write_ms is None:
            return None
        return (self.io_read_ms or 0.0) + (self.io_write_ms or 0.0)

    @property
    def notes(self) -> list[str]:
        """The node's extra facts, each a short phrase (shared by HTML and text)."""
        out = []
        if self.rows_removed_by_filter:
            out.append(f"{self.rows_removed_by_filter:,.0f} rows removed by filter")
        if self.rows_removed_by_join_filter:
            out.append(f"{self.rows_removed_by_join_filter:,.0f} rows removed by join filter")
        if self.rows_removed_by_recheck:
            out.append(f"{self.rows_removed_by_recheck:,.0f} rows removed by index recheck")
        if self.sort_text:
            out.append(f"sort: {self.sort_text}")
        if self.heap_fetches is not None:
            out.append(f"{self.heap_fetches:,} heap fetches")
        if self.temp_read or self.temp_written:
            out.append(f"temp: {self.temp_read} read, {self.temp_written} written blocks")
        if self.io_ms:
            out.append(f"I/O {self.io_ms:.3f} ms")
        if self.workers:
            out.append(f"{self.workers} workers launched")
        if self.never_executed:
            out.append("never executed")
        return out


@dataclass
class PlanTree:
    nodes: list[PlanNode]
    execution_ms: float | None
    planning_ms: float | None
    total_blocks: int

    @property
    def slowest(self) -> PlanNode | None:
        return next((n for n in self.nodes if n.slowest), None)

    @property
    def worst_estimate(self) -> PlanNode | None:
        return next((n for n in self.nodes if n.worst_estimate), None)


def _walk(
    node: dict[str, Any], depth: int = 0, parent: int | None = None
) -> Iterator[tuple[dict[str, Any], int, int | None]]:
    yield node, depth, parent
    me = id(node)
    for child in node.get("Plans", []) or []:
        yield from _walk(child, depth + 1, me)


def _inclusive_ms(node: dict[str, Any]) -> float | None:
    t = _num(node, "Actual Total Time")
    if t is None:
        return None
    return t * int(node.get("Actual Loops") or 1)


def _blocks(node: dict[str, Any]) -> int:
    return int(node.get("Shared Hit Blocks") or 0) + int(node.get("Shared Read Blocks") or 0)


def _io_time(node: dict[str, Any], kind: str) -> float | None:
    # PostgreSQL < 16: "I/O Read Time"; 16+: "Shared I/O Read Time", "Local …", "Temp …".
    values = [float(v) for k, v in node.items() if k.endswith(f"I/O {kind} Time") and v is not None]
    return sum(values) if values else None


def _details(node: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key in _DETAIL_KEYS:
        value = node.get(key)
        if value:
            out.append((key, ", ".join(value) if isinstance(value, list) else str(value)))
    return out


def plan_tree(document: Any) -> PlanTree:
    """Parse an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) document into a PlanTree."""
    if isinstance(document, str):
        document = json.loads(document)
    if not document:
        return PlanTree(nodes=[], execution_ms=None, planning_ms=None, total_blocks=0)
    root = document[0]
    ids: dict[int, int] = {}
    nodes: list[PlanNode] = []
    for raw, depth, parent in _walk(root["Plan"]):
        ids[id(raw)] = len(nodes)
        loops = int(raw.get("Actual Loops") or 0)
        total = _inclusive_ms(raw)
        children = raw.get("Plans", []) or []
        child_ms = sum(
            _inclusive_ms(c) or 0.0
            for c in children
            if c.get("Parent Relationship") not in _NOT_CHILD_TIME
        )
        kind = str(raw.get("Node Type", "?"))
        if raw.get("Parallel Aware"):
            kind = f"Parallel {kind}"
        if raw.get("Strategy") and kind in {"Aggregate", "SetOp"}:
            kind = f"{kind} ({raw['Strategy']})"
        if raw.get("Join Type") not in (None, "Inner"):
            kind = f"{kind} ({raw['Join Type']})"

        def all_loops(key: str, raw: dict[str, Any] = raw, loops: int = loops) -> float | None:
            v = _num(raw, key)
            return None if v is None else v * max(loops, 1)

        nodes.append(
            PlanNode(
                id=len(nodes),
                depth=depth,
                parent=ids.get(parent) if parent is not None else None,
                node_type=kind,
                relation=str(raw.get("Relation Name") or raw.get("CTE Name") or ""),
                index=str(raw.get("Index Name") or ""),
                details=_details(raw),
                plan_rows=_num(raw, "Plan Rows"),
                actual_rows=_num(raw, "Actual Rows"),
                loops=loops,
                total_ms=total,
                self_ms=None if total is None else max(total - child_ms, 0.0),
                shared_hit=int(raw.get("Shared Hit Blocks") or 0),
                shared_read=int(raw.get("Shared Read Blocks") or 0),
                shared_dirtied=int(raw.get("Shared Dirtied Blocks") or 0),
                shared_written=int(raw.get("Shared Written Blocks") or 0),
                temp_read=int(raw.get("Temp Read Blocks") or 0),
                temp_written=int(raw.get("Temp Written Blocks") or 0),
                self_blocks=max(_blocks(raw) - sum(_blocks(c) for c in children), 0),
                io_read_ms=_io_time(raw, "Read"),
                io_write_ms=_io_time(raw, "Write"),
                rows_removed_by_filter=all_loops("Rows Removed by Filter"),
                rows_removed_by_recheck=all_loops("Rows Removed by Index Recheck"),
                rows_removed_by_join_filter=all_loops("Rows Removed by Join Filter"),
                heap_fetches=None if raw.get("Heap Fetches") is None else int(raw["Heap Fetches"]),
                sort_method=str(raw.get("Sort Method") or ""),
                sort_space_kb=None
                if raw.get("Sort Space Used") is None
                else int(raw["Sort Space Used"]),
                sort_space_type=str(raw.get("Sort Space Type") or ""),
                workers=raw.get("Workers Launched"),
                never_executed="Actual Loops" in raw and loops == 0,
                raw={k: v for k, v in raw.items() if k != "Plans"},
            )
        )
    execution = _num(root, "Execution Time")
    top_total = nodes[0].total_ms if nodes else None
    whole_ms = execution or top_total or 0.0
    total_blocks = _blocks(root["Plan"])
    for n in nodes:
        if whole_ms and n.self_ms is not None:
            n.time_share = min(n.self_ms / whole_ms, 1.0)
        if total_blocks:
            n.buffer_share = min(n.self_blocks / total_blocks, 1.0)
    timed = [n for n in nodes if n.self_ms is not None]
    if timed:
        max(timed, key=lambda n: n.self_ms or 0.0).slowest = True
    off = [n for n in nodes if n.misestimated]
    if off:
        max(off, key=lambda n: n.misestimate or 0.0).worst_estimate = True
    return PlanTree(
        nodes=nodes,
        execution_ms=execution,
        planning_ms=_num(root, "Planning Time"),
        total_blocks=total_blocks,
    )


def _rows(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:.2f}"


def text_tree(tree: PlanTree, *, width: int = 20) -> str:
    """The plan as indented text for a terminal, with a bar for each node's time share."""
    lines = []
    for n in tree.nodes:
        indent = "   " * n.depth
        arrow = "-> " if n.depth else ""
        marks = []
        if n.slowest:
            marks.append("SLOWEST")
        if n.misestimated:
            direction = "under" if n.underestimated else "over"
            marks.append(f"{direction}estimated x{n.misestimate:,.0f}")
        head = f"{indent}{arrow}{n.label}"
        if marks:
            head += f"  [{'; '.join(marks)}]"
        lines.append(head)
        pad = indent + ("   " if n.depth else "") + "   "
        filled = round(n.time_share * width)
        bar = "#" * filled + "." * (width - filled)
        self_ms = "?" if n.self_ms is None else f"{n.self_ms:.3f} ms"
        lines.append(
            f"{pad}[{bar}] {n.time_share:>4.0%} self {self_ms}; "
            f"rows {_rows(n.actual_rows)} of {_rows(n.plan_rows)} est. per loop x {n.loops} "
            f"loop{'s' if n.loops != 1 else ''}; buffers hit {n.shared_hit} read {n.shared_read}"
        )
        for key, value in n.details:
            lines.append(f"{pad}{key}: {value}")
        for note in n.notes:
            lines.append(f"{pad}{note}")
    timing = []
    if tree.planning_ms is not None:
        timing.append(f"planning {tree.planning_ms:.3f} ms")
    if tree.execution_ms is not None:
        timing.append(f"execution {tree.execution_ms:.3f} ms")
    if timing:
        lines.append(", ".join(timing).capitalize())
    return "\n".join(lines)
