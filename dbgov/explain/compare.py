"""Before vs after: a verdict you can trust on a noisy copy, and the two trees aligned.

Time on a staging copy shared with other work is noisy: the same plan measured twice
gave "25 → 36 ms" and "51 → 32 ms". The work a plan does (buffers) and its shape
(which access path reads which table) repeat exactly. So the verdict weighs:

- plan shape: an index no longer used, a table now read by a Seq Scan → worse;
- buffers (shared hit + read + temp) beyond DBGOV["REGRESSION_FACTOR"] and
  DBGOV["REGRESSION_MIN_BLOCKS"] → worse;
- time only beyond the noise: the after-runs all slower than every before-run, by
  DBGOV["REGRESSION_FACTOR"] and DBGOV["REGRESSION_MIN_MS"]; with the same plan and
  no more buffers, the slowest before-run times the factor must still be beaten
  (a lone slower timing on an unchanged plan is the copy's load, not the migration).
"""

from __future__ import annotations

import difflib
import statistics
from dataclasses import dataclass, field

from dbgov.conf import dbgov_settings

from .explain import ExplainResult, format_ms
from .plantree import PlanNode, PlanTree

__all__ = ["AlignedNode", "Comparison", "Spread", "align", "compare", "spread"]


@dataclass(frozen=True)
class Spread:
    """The measured repetitions of one query in one phase."""

    timings: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(statistics.median(self.timings)) if self.timings else 0.0

    @property
    def low(self) -> float:
        return min(self.timings) if self.timings else 0.0

    @property
    def high(self) -> float:
        return max(self.timings) if self.timings else 0.0

    @property
    def text(self) -> str:
        """ "25 ms (19–51 ms, 3 runs)"."""
        if len(self.timings) < 2:
            return format_ms(self.median) if self.timings else "?"
        return (
            f"{format_ms(self.median)} ({format_ms(self.low)}–{format_ms(self.high)}, "
            f"{len(self.timings)} runs)"
        )


def spread(result: ExplainResult) -> Spread:
    return Spread(tuple(result.timings))


@dataclass
class Comparison:
    regression: bool
    over_budget: bool
    verdict: str
    reasons: list[str] = field(default_factory=list)
    # "better", "worse", "same" or "noise" (time moved within the noise)
    time: str = "same"
    notes: list[str] = field(default_factory=list)


def _access(result: ExplainResult) -> str:
    # "Index Scan using shop_orders_user_history_idx" -> "Index Scan"; the index is
    # shown in the plan tree, the verdict stays one line.
    first = result.access_path.split(", ")[0]
    return first.split(" using ")[0] if first else result.top_node


def _time_change(b: Spread, a: Spread, same_work: bool) -> str:
    factor = float(dbgov_settings.REGRESSION_FACTOR)
    min_ms = float(dbgov_settings.REGRESSION_MIN_MS)

    def beyond(slow: Spread, fast: Spread) -> bool:
        if slow.median <= fast.median * factor or slow.median - fast.median < min_ms:
            return False
        if len(slow.timings) < 2 or len(fast.timings) < 2:
            return True  # one run each: the factor is all there is to go by
        # Every slow run above every fast one; on an unchanged plan doing the same
        # work, above the slowest fast run times the factor.
        bar = fast.high * factor if same_work else fast.high
        return slow.low > bar

    if beyond(a, b):
        return "worse"
    if beyond(b, a):
        return "better"
    return "noise" if a.median != b.median else "same"


def compare(before: ExplainResult, after: ExplainResult) -> Comparison:
    """Before vs after: a one-line verdict, regressions and the OLTP budget."""
    budget = float(dbgov_settings.OLTP_BUDGET_MS)
    factor = float(dbgov_settings.REGRESSION_FACTOR)
    min_blocks = int(dbgov_settings.REGRESSION_MIN_BLOCKS)
    if not after.ok:
        return Comparison(False, False, f"after failed: {after.error}")
    over = after.over_budget
    b_time, a_time = spread(before), spread(after)
    if not before.ok:
        verdict = f"{_access(after)}, {format_ms(a_time.median)} (before failed)"
        if over:
            verdict += f" — over the {format_ms(budget)} OLTP budget"
        return Comparison(False, over, verdict)

    reasons: list[str] = []
    notes: list[str] = []
    lost = [i for i in before.indexes_used if i not in after.indexes_used]
    if lost and not after.indexes_used:
        reasons.append(f"no longer uses {', '.join(lost)}")
    new_seq = sorted(set(after.seq_scans) - set(before.seq_scans))
    if new_seq and not (lost and not after.indexes_used):
        reasons.append(f"now reads {', '.join(new_seq)} with a Seq Scan")
    bb, ab = before.blocks, after.blocks
    more_work = bb is not None and ab is not None and ab > bb * factor and ab - bb >= min_blocks
    less_work = bb is not None and ab is not None and bb > ab * factor and bb - ab >= min_blocks
    if more_work:
        reasons.append(f"reads more buffers: {bb} → {ab}")
    same_shape = _access(before) == _access(after) and before.indexes_used == after.indexes_used
    same_work = same_shape and not more_work and not less_work
    time = _time_change(b_time, a_time, same_work)
    if time == "worse":
        reasons.append(f"slower beyond the noise: {b_time.text} → {a_time.text}")
    elif time == "noise" and same_work:
        notes.append("same plan and buffers: the time difference is within the noise")
    regression = bool(reasons)
    path = _access(after) if same_shape else f"{_access(before)} → {_access(after)}"
    verdict = f"{path}, {format_ms(b_time.median)} → {format_ms(a_time.median)}"
    if bb is not None and ab is not None and bb != ab:
        verdict += f", buffers {bb} → {ab}"
    if time == "noise":
        verdict += " (within the noise)"
    if regression:
        verdict += " — REGRESSION (" + "; ".join(reasons) + ")"
    if over:
        verdict += f" — over the {format_ms(budget)} OLTP budget"
    return Comparison(regression, over, verdict[:300], reasons, time=time, notes=notes)


# Aligning the two trees ------------------------------------------------------------


@dataclass
class AlignedNode:
    """One step of the query before and after (either side may be missing)."""

    before: PlanNode | None
    after: PlanNode | None

    @property
    def depth(self) -> int:
        node = self.after or self.before
        assert node is not None
        return node.depth

    @property
    def changed(self) -> bool:
        if self.before is None or self.after is None:
            return True
        return self.before.label != self.after.label

    def _delta(self, attr: str) -> float | None:
        if self.before is None or self.after is None:
            return None
        b, a = getattr(self.before, attr), getattr(self.after, attr)
        if b is None or a is None:
            return None
        return float(a) - float(b)

    @property
    def delta_ms(self) -> float | None:
        return self._delta("self_ms")

    @property
    def delta_rows(self) -> float | None:
        return self._delta("total_rows")

    @property
    def delta_blocks(self) -> float | None:
        return self._delta("self_blocks")


def align(before: PlanTree, after: PlanTree) -> list[AlignedNode]:
    """Pair the nodes of two plans: a scan of the same table is the same step whatever
    its access path (Seq Scan → Index Scan), other nodes pair by type, in order."""
    b_keys = [n.align_key for n in before.nodes]
    a_keys = [n.align_key for n in after.nodes]
    out: list[AlignedNode] = []
    matcher = difflib.SequenceMatcher(a=b_keys, b=a_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [
                AlignedNode(before.nodes[i], after.nodes[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
        else:
            out += [AlignedNode(before.nodes[i], None) for i in range(i1, i2)]
            out += [AlignedNode(None, after.nodes[j]) for j in range(j1, j2)]
    return out
