"""The plan tree: per-loop estimates, the node fields pev2 shows, the terminal drawing.

The documents are real EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output of PostgreSQL 15:
``nested_loop_55_loops.json`` is a nested loop whose inner Index Scan runs 55 times
(1 row estimated and 1 found per loop); ``sort_on_disk_heap_fetches.json`` an external
merge sort over an Index Only Scan with heap fetches, ``track_io_timing`` on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbgov.explain.plantree import plan_tree, text_tree

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> list:
    return json.loads((FIXTURES / name).read_text())


def test_inner_side_of_a_nested_loop_is_not_a_misestimate() -> None:
    tree = plan_tree(load("nested_loop_55_loops.json"))
    inner = next(n for n in tree.nodes if n.node_type == "Index Scan")
    assert inner.loops == 55
    assert (inner.plan_rows, inner.actual_rows) == (1, 1)  # per loop, both
    assert inner.total_rows == 55
    assert inner.misestimate == 1.0 and not inner.misestimated
    assert tree.worst_estimate is None
    assert "estimated" not in text_tree(tree)


def test_a_real_misestimate_is_flagged_per_loop() -> None:
    doc = load("nested_loop_55_loops.json")
    inner = doc[0]["Plan"]["Plans"][0]["Plans"][1]
    inner["Actual Rows"] = 40  # 40 per loop against 1 estimated
    tree = plan_tree(doc)
    node = next(n for n in tree.nodes if n.node_type == "Index Scan")
    assert node.misestimate == 40 and node.misestimated and node.underestimated
    assert node.worst_estimate and tree.worst_estimate is node
    assert "underestimated x40" in text_tree(tree)


def test_node_fields_like_pev2() -> None:
    tree = plan_tree(load("nested_loop_55_loops.json"))
    seq = next(n for n in tree.nodes if n.node_type == "Seq Scan")
    assert seq.relation == "orders"
    assert seq.rows_removed_by_filter == 99945
    assert "99,945 rows removed by filter" in seq.notes
    assert seq.slowest and tree.slowest is seq
    # Share of the query's time and of its buffers, exclusive of the children.
    assert 0.9 < seq.time_share <= 1.0
    assert seq.self_blocks == 637 and seq.buffer_share == pytest.approx(637 / 805)
    assert sum(n.self_blocks for n in tree.nodes) == tree.total_blocks == 805
    sort = tree.nodes[0]
    assert sort.sort_text == "quicksort, 27 kB memory"

    disk = plan_tree(load("sort_on_disk_heap_fetches.json"))
    sort, scan = disk.nodes
    assert sort.sort_method == "external merge" and sort.sort_space_type == "Disk"
    assert (sort.temp_read, sort.temp_written) == (245, 285)
    assert "temp: 245 read, 285 written blocks" in sort.notes
    assert scan.node_type == "Index Only Scan" and scan.heap_fetches == 30590
    assert scan.io_read_ms is not None  # track_io_timing was on


def test_text_tree_for_the_terminal() -> None:
    text = text_tree(plan_tree(load("nested_loop_55_loops.json")))
    lines = text.splitlines()
    assert lines[0] == "Sort"
    assert any(line.startswith("      -> Index Scan using users_pkey on users") for line in lines)
    assert "rows 1 of 1 est. per loop x 55 loops" in text
    assert "[SLOWEST]" in text and "Filter: (total < '56'::numeric)" in text
    assert lines[-1].startswith("Planning ") and "execution" in lines[-1]
