"""Before vs after: every repetition kept, noise judged, buffers and plan shape weighed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from django.test import override_settings

from dbgov.explain.compare import align, compare, spread
from dbgov.explain.explain import ExplainResult, Repetition, parse_explain
from dbgov.explain.plantree import plan_tree

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> list:
    return json.loads((FIXTURES / name).read_text())


def measured(name: str, timings: list[float], blocks_factor: float = 1.0) -> ExplainResult:
    """A result of fixture ``name`` as if EXPLAINed len(timings) times."""
    doc = copy.deepcopy(load(name))
    top = doc[0]["Plan"]
    top["Shared Hit Blocks"] = int(top["Shared Hit Blocks"] * blocks_factor)
    result = parse_explain(doc)
    result.repetitions = [Repetition(t, 0.1, result.blocks, doc) for t in timings]
    result.execution_ms = sorted(timings)[(len(timings) - 1) // 2]
    return result


def test_the_same_plan_slower_within_the_noise_is_no_regression() -> None:
    # The "orders by status": 25 → 36 ms in one run, 51 → 32 ms in the next.
    before = measured("user_order_history_before.json", [25.0, 51.0, 40.0])
    after = measured("user_order_history_before.json", [36.0, 32.0, 45.0])
    cmp = compare(before, after)
    assert not cmp.regression and cmp.time == "noise"
    assert "within the noise" in cmp.verdict
    assert "same plan and buffers" in cmp.notes[0]
    assert spread(before).text == "40 ms (25 ms–51 ms, 3 runs)"


def test_slower_on_every_run_with_the_same_work_needs_a_clear_margin() -> None:
    before = measured("user_order_history_before.json", [10.0, 11.0, 12.0])
    slightly = measured("user_order_history_before.json", [16.0, 17.0, 18.0])
    assert not compare(before, slightly).regression  # 16 > 12 but not > 12 x 1.5
    clearly = measured("user_order_history_before.json", [30.0, 31.0, 33.0])
    cmp = compare(before, clearly)
    assert cmp.regression and cmp.time == "worse"
    assert "slower beyond the noise: 11 ms (10 ms–12 ms, 3 runs) → 31 ms" in cmp.verdict


def test_more_buffers_is_a_regression_even_when_time_is_noisy() -> None:
    before = measured("user_order_history_before.json", [10.0, 14.0, 12.0])
    after = measured("user_order_history_before.json", [11.0, 13.0, 12.0], blocks_factor=3)
    cmp = compare(before, after)
    assert cmp.regression
    assert "reads more buffers: 974 → 2922" in cmp.verdict


def test_an_index_that_helps_reads_as_better() -> None:
    before = measured("user_order_history_before.json", [10.0, 10.4, 11.0])
    after = measured("user_order_history_after.json", [0.05, 0.06, 0.07])
    cmp = compare(before, after)
    assert not cmp.regression and cmp.time == "better"
    assert cmp.verdict.startswith("Seq Scan → Index Scan, 10 ms → 0.06 ms, buffers 974 → ")


def test_losing_the_index_is_a_regression_whatever_the_time() -> None:
    with override_settings(DBGOV={"REGRESSION_MIN_BLOCKS": 10_000}):
        cmp = compare(
            measured("user_order_history_after.json", [5.0, 6.0, 7.0]),
            measured("user_order_history_before.json", [5.5, 6.5, 7.5]),
        )
    assert cmp.regression
    assert "no longer uses shop_orders_user_history_idx" in cmp.verdict


def test_nodes_are_aligned_by_step() -> None:
    before = plan_tree(load("user_order_history_before.json"))
    after = plan_tree(load("user_order_history_after.json"))
    rows = align(before, after)
    pairs = [
        (r.before.node_type if r.before else None, r.after.node_type if r.after else None)
        for r in rows
    ]
    # Limit pairs with Limit; the scan of shop_orders pairs across access paths.
    assert pairs[0] == ("Limit", "Limit")
    assert ("Seq Scan", "Index Scan") in pairs
    assert ("Sort", None) in pairs
    scan = next(r for r in rows if r.before and r.before.node_type == "Seq Scan")
    assert scan.changed and scan.delta_ms is not None and scan.delta_ms < 0
    assert scan.delta_blocks is not None and scan.delta_blocks < 0
