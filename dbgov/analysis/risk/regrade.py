"""Severity follows the estimate: the same rule is info on a tiny table and
never-without-a-plan when ACCESS EXCLUSIVE would be held for seconds.

Only findings about work under a lock are regraded (``SIZED_RULES``), and only when the
estimate is known;
without statistics a finding keeps its rule's severity and says "size unknown".
Thresholds (``DBGOV["RISK_THRESHOLDS"]``) are per lock class: ``blocks-reads``
(ACCESS EXCLUSIVE) and ``blocks-writes`` (SHARE and stronger); a lock that blocks
neither (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) is never raised above its rule.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import Finding, LockLevel, Severity
from .estimates import Estimate

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SIZED_RULES",
    "describe",
    "human_bytes",
    "human_rows",
    "human_seconds",
    "regrade",
]

# The rules whose risk is the time their statement's work holds a lock: the ones the
# estimate regrades. (lock-timeout-missing, drop-column, rename … are not about size.)
SIZED_RULES = frozenset(
    {
        "alter-column-type",
        "set-not-null",
        "create-index-not-concurrently",
        "add-foreign-key-validated",
        "add-check-validated",
        "add-column-volatile-default",
        "add-column-generated-identity",
        "add-primary-key-without-index",
        "add-unique-constraint",
        "add-exclusion-constraint",
        "reindex-not-concurrently",
        "vacuum-full",
        "cluster",
    }
)

# Estimated milliseconds from which a finding needs care / an explicit plan.
DEFAULT_THRESHOLDS: Mapping[str, Mapping[str, float]] = {
    "blocks-reads": {"requires-care": 100.0, "never-without-a-plan": 1_000.0},
    "blocks-writes": {"requires-care": 1_000.0, "never-without-a-plan": 10_000.0},
}

_VERB = {
    "rewrite": "rewrites",
    "index": "indexes",
    "validate": "validates",
    "foreign-key": "validates",
    "scan": "scans",
}


def human_rows(rows: int) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if rows >= size:
            return f"{rows / size:.1f}".rstrip("0").rstrip(".") + suffix
    return str(rows)


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("bytes", "kB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover - the loop returns


def human_seconds(seconds: float) -> str:
    if seconds < 0.001:
        return "under 1 ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _waits(lock: LockLevel) -> str:
    if lock.blocks_reads:
        return "every read and write waits"
    if lock.blocks_writes:
        return "every write waits"
    return "reads and writes go on"


def describe(e: Estimate) -> str:
    """'rewrites shop_orders (12.4M rows, 3.1 GB) under ACCESS EXCLUSIVE: about 40 s, …'

    Only what changes with the table's statistics (it is part of the finding's message,
    which stored plans are keyed by): the write rate, which moves every second, is not.
    """
    if e.kind == "lock":
        size = (
            f"{human_rows(e.rows)} rows, {human_bytes(e.bytes or 0)}"
            if e.rows is not None
            else "size unknown"
        )
        return f"takes {e.lock.value} on {e.table} ({size}); no rewrite or scan"
    verb = _VERB[e.kind]
    if e.new_table:
        return f"{verb} {e.table}, created in this plan (no rows yet)"
    if e.absent:
        return f"{verb} {e.table} under {e.lock.value}: size unknown (not on the target yet)"
    if e.rows is None or e.seconds is None:
        return f"{verb} {e.table} under {e.lock.value}: size unknown (no statistics)"
    size = f"{human_rows(e.rows)} rows, {human_bytes(e.bytes or 0)}"
    text = f"{verb} {e.table} ({size}) under {e.lock.value}: about {human_seconds(e.seconds)}"
    if e.held_s is not None and e.held_s > e.seconds:
        text += f", held about {human_seconds(e.held_s)} until the migration commits"
    if e.lock.blocks_writes:
        text += f", during which {_waits(e.lock)}"
    if e.rehearsed_s is not None:
        text += f" · rehearsed {human_seconds(e.rehearsed_s)} on staging"
        if e.rehearsed_rows is not None:
            text += f" ({human_rows(e.rehearsed_rows)} rows)"
    return text


def lock_class(lock: LockLevel) -> str | None:
    if lock.blocks_reads:
        return "blocks-reads"
    if lock.blocks_writes:
        return "blocks-writes"
    return None


def graded(
    estimate: Estimate, rule_severity: Severity, thresholds: Mapping[str, Mapping[str, float]]
) -> Severity:
    """The severity the estimate gives a finding of ``rule_severity`` (see the docstring)."""
    if (
        estimate.kind == "lock"
        or estimate.seconds is None
        or rule_severity
        not in (
            Severity.INFO,
            Severity.CARE,
            Severity.PLAN,
        )
    ):
        return rule_severity
    klass = lock_class(estimate.lock)
    if klass is None:
        return rule_severity
    limits = {**DEFAULT_THRESHOLDS[klass], **thresholds.get(klass, {})}
    ms = (estimate.lock_s or 0.0) * 1000
    if ms >= float(limits["never-without-a-plan"]):
        return Severity.PLAN
    if ms >= float(limits["requires-care"]):
        return Severity.CARE
    return Severity.INFO


def regrade(
    finding: Finding, estimate: Estimate, thresholds: Mapping[str, Mapping[str, float]]
) -> None:
    """Set the finding's severity from the estimate and say why in its message."""
    finding.estimate = estimate
    finding.severity = graded(estimate, finding.severity, thresholds)
    finding.message = f"{finding.message.rstrip()} On the target: {describe(estimate)}."
