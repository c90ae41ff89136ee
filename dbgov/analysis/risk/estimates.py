"""How long a statement holds its lock: the work it does over a throughput for its kind.

Four kinds of work, each in its own unit (the throughput table keeps one figure per
server and kind, in that unit per second):

- ``rewrite`` (ALTER COLUMN TYPE, volatile defaults, SET LOGGED, VACUUM FULL, …): the
  table and its indexes are written anew, so the work is the relation's total bytes;
- ``index`` (CREATE INDEX, ADD PRIMARY KEY / UNIQUE): a sort of every row: rows;
- ``validate`` (ADD FOREIGN KEY / CHECK without NOT VALID, VALIDATE CONSTRAINT): a
  scan of the heap checking each row: heap bytes;
- ``scan`` (SET NOT NULL, ATTACH PARTITION): a plain scan of the heap: heap bytes.

Rates come from rehearsals (``dbgov.explain.throughput``: each statement's duration on
the staging copy against the copy's statistics) or, until one measured them, from
``DEFAULT_RATES`` below (see docs/risk.md). A statement on a table without statistics gets no estimate ("unknown").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..model import LockLevel, Statement, StatementFacts
from .stats import TableStats, TargetStatistics

__all__ = ["DEFAULT_RATES", "KINDS", "Estimate", "Rate", "estimate_statement", "work_of"]

KINDS = ("rewrite", "index", "validate", "scan")
UNITS = {"rewrite": "bytes", "index": "rows", "validate": "bytes", "scan": "bytes"}


@dataclass(frozen=True)
class Rate:
    """Throughput of one kind of work: ``per_s`` units (UNITS[kind]) per second."""

    kind: str
    per_s: float
    source: str = "default"  # "default" or "measured on <server> (<n> statements)"


# PostgreSQL 15 on 2 busy shared vCPUs and SSD, rounded down (docs/risk.md): a 10M-row
# two-column table (670 MB) rewrote in 17.7 s, indexed in 6.1 s, checked in 1.2 s.
DEFAULT_RATES: Mapping[str, Rate] = {
    "rewrite": Rate("rewrite", 35e6),  # bytes/s of table + indexes written anew
    "index": Rate("index", 1.5e6),  # rows/s sorted into a B-tree
    "validate": Rate("validate", 250e6),  # heap bytes/s checked
    "scan": Rate("scan", 400e6),  # heap bytes/s read
}


@dataclass(frozen=True)
class Estimate:
    """What one statement does to one live table, and for how long (None: unknown)."""

    table: str
    kind: str  # one of KINDS
    lock: LockLevel
    rows: int | None
    bytes: int | None  # the table's total size (heap, TOAST, indexes)
    seconds: float | None
    rate_source: str = "default"
    writes_per_s: float | None = None
    new_table: bool = False
    # The same statement's duration on the staging copy in the last rehearsal.
    rehearsed_s: float | None = None
    rehearsed_rows: int | None = None

    @property
    def known(self) -> bool:
        return self.seconds is not None


def kind_of(facts: StatementFacts, rewrites: bool, scans: bool) -> str | None:
    """The kind of work a statement does on one table (None: none worth estimating)."""
    if rewrites:
        return "rewrite"
    actions = set(facts.actions)
    if facts.kind == "CREATE INDEX" or actions & {
        "ADD INDEX",
        "ADD CONSTRAINT UNIQUE",
        "ADD CONSTRAINT PRIMARY KEY",
        "ADD CONSTRAINT EXCLUDE",
    }:
        return "index"
    if not scans:
        return None
    if actions & {
        "VALIDATE CONSTRAINT",
        "ADD CONSTRAINT FOREIGN KEY",
        "ADD CONSTRAINT CHECK",
    }:
        return "validate"
    return "scan"


def work_of(kind: str, table: TableStats) -> float | None:
    """The work in UNITS[kind]; None when the statistics do not say."""
    if table.rows is None:
        return None
    if kind == "rewrite":
        return float(table.total_bytes)
    if kind == "index":
        return float(table.rows)
    return float(table.heap_bytes)


def estimate_statement(
    statement: Statement,
    statistics: TargetStatistics | None,
    rates: Mapping[str, Rate],
) -> Estimate | None:
    """The longest estimate over the tables the statement rewrites, scans or indexes."""
    facts = statement.facts
    if facts is None or facts.parse_error or not facts.locks:
        return None
    found: list[Estimate] = []
    for lock in facts.locks:
        if lock.via not in (None, "index"):
            continue
        kind = kind_of(facts, lock.rewrites, lock.scans)
        if kind is None:
            continue
        if statement.new_table:
            found.append(Estimate(lock.table, kind, lock.lock, 0, 0, 0.0, new_table=True))
            continue
        stats = statistics.table(lock.table) if statistics is not None else None
        rate = rates.get(kind) or DEFAULT_RATES[kind]
        work = work_of(kind, stats) if stats is not None else None
        found.append(
            Estimate(
                table=lock.table,
                kind=kind,
                lock=lock.lock,
                rows=stats.rows if stats else None,
                bytes=stats.total_bytes if stats and stats.rows is not None else None,
                seconds=None if work is None else work / rate.per_s,
                rate_source=rate.source,
                writes_per_s=stats.writes_per_s if stats else None,
            )
        )
    if not found:
        return None
    return max(found, key=lambda e: (e.seconds is None, e.seconds or 0.0))
