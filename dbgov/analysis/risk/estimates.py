"""How long a statement holds its lock: the work it does over a throughput for its kind.

Five kinds of work, each in its own unit; the time is a fixed overhead (new files,
catalog updates, the lock itself) plus the work over a throughput in that unit per
second, both kept per server and kind:

- ``rewrite`` (ALTER COLUMN TYPE, volatile defaults, SET LOGGED, VACUUM FULL, …): the
  table and its indexes are written anew, so the work is the relation's total bytes;
- ``index`` (CREATE INDEX, ADD PRIMARY KEY / UNIQUE): a sort of every row: rows;
- ``validate`` (ADD CHECK without NOT VALID, VALIDATE CONSTRAINT): a scan of the heap
  checking each row: heap bytes;
- ``foreign-key`` (ADD FOREIGN KEY without NOT VALID): a lookup in the referenced
  table's index for each row: rows;
- ``scan`` (SET NOT NULL, ATTACH PARTITION): a plain scan of the heap: heap bytes.

Rates come from rehearsals (``dbgov.explain.throughput``: each statement's duration on
the staging copy against the copy's statistics, fitted by least squares with
``fit_rate``) or, until one measured them, from ``DEFAULT_RATES`` below (docs/risk.md). A statement on a table without statistics gets no estimate ("unknown").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..model import LockLevel, Statement, StatementFacts
from .stats import TableStats, TargetStatistics

__all__ = [
    "DEFAULT_RATES",
    "KINDS",
    "Estimate",
    "Rate",
    "RateSums",
    "estimate_statement",
    "fit_rate",
    "work_of",
]

# The kinds of work (Estimate.kind may also be "lock": a lock taken, no work done).
KINDS = ("rewrite", "index", "validate", "foreign-key", "scan")
UNITS = {
    "rewrite": "bytes",
    "index": "rows",
    "validate": "bytes",
    "foreign-key": "rows",
    "scan": "bytes",
}


@dataclass(frozen=True)
class Rate:
    """Throughput of one kind of work: ``overhead_s`` + work / ``per_s`` (UNITS[kind])."""

    kind: str
    per_s: float
    overhead_s: float = 0.0
    source: str = "default"  # "default" or "measured on <server> (<n> statements)"

    def seconds(self, work: float) -> float:
        return self.overhead_s + work / self.per_s


# PostgreSQL 15 on 2 busy shared vCPUs and SSD (bench/estimates.py, docs/risk.md): a
# 10M-row two-column table (670 MB) rewrote in 17.7 s, indexed in 6.1 s, checked in 1.2 s.
DEFAULT_RATES: Mapping[str, Rate] = {
    "rewrite": Rate("rewrite", 35e6, 0.005),  # bytes/s of table + indexes written anew
    "index": Rate("index", 1.5e6, 0.01),  # rows/s sorted into a B-tree
    "validate": Rate("validate", 300e6, 0.001),  # heap bytes/s checked
    "foreign-key": Rate("foreign-key", 2.5e6, 0.002),  # rows/s looked up
    "scan": Rate("scan", 400e6, 0.001),  # heap bytes/s read
}


@dataclass
class RateSums:
    """What a fit needs of the measured statements (work w, seconds t), as running sums:
    the line t = overhead + w / per_s minimising the squared *relative* error (a 10 ms
    statement counts as much as a 10 s one), from Σ1/t², Σw/t², Σw²/t², Σ1/t, Σw/t."""

    samples: int = 0
    inv_t2: float = 0.0
    w_t2: float = 0.0
    ww_t2: float = 0.0
    inv_t: float = 0.0
    w_t: float = 0.0

    def add(self, work: float, seconds: float) -> None:
        self.samples += 1
        self.inv_t2 += 1 / seconds**2
        self.w_t2 += work / seconds**2
        self.ww_t2 += work * work / seconds**2
        self.inv_t += 1 / seconds
        self.w_t += work / seconds


def fit_rate(kind: str, sums: RateSums, *, source: str) -> Rate | None:
    """The fitted line (see RateSums); through the origin when the points do not give a
    positive overhead; None without a usable measurement."""
    if sums.samples <= 0 or sums.ww_t2 <= 0 or sums.w_t <= 0:
        return None
    if sums.samples >= 2:
        determinant = sums.inv_t2 * sums.ww_t2 - sums.w_t2 * sums.w_t2
        if determinant > 1e-9 * sums.inv_t2 * sums.ww_t2:
            overhead = (sums.inv_t * sums.ww_t2 - sums.w_t2 * sums.w_t) / determinant
            slope = (sums.inv_t2 * sums.w_t - sums.w_t2 * sums.inv_t) / determinant
            if slope > 0 and overhead >= 0:
                return Rate(kind, 1 / slope, overhead, source)
    return Rate(kind, sums.ww_t2 / sums.w_t, 0.0, source)


@dataclass(frozen=True)
class Estimate:
    """What one statement does to one live table, and for how long (None: unknown)."""

    table: str
    kind: str  # one of KINDS, or "lock" (the statement only locks the table)
    lock: LockLevel
    rows: int | None
    bytes: int | None  # the table's total size (heap, TOAST, indexes)
    seconds: float | None
    rate_source: str = "default"
    writes_per_s: float | None = None
    new_table: bool = False
    # The table is not on the target (yet): an earlier migration of the plan creates it.
    absent: bool = False
    # In an atomic migration: how long its lock stays held, through the work of every
    # later statement until COMMIT (None: no later work, or not atomic).
    held_s: float | None = None
    # The same statement's duration on the staging copy in the last rehearsal.
    rehearsed_s: float | None = None
    rehearsed_rows: int | None = None

    @property
    def lock_s(self) -> float | None:
        """How long its lock is held: its own work, or until COMMIT when longer."""
        if self.seconds is None:
            return None
        return max(self.seconds, self.held_s or 0.0)


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
    if "ADD CONSTRAINT FOREIGN KEY" in actions:
        return "foreign-key"
    if actions & {"VALIDATE CONSTRAINT", "ADD CONSTRAINT CHECK"}:
        return "validate"
    return "scan"


def work_of(kind: str, table: TableStats) -> float | None:
    """The work in UNITS[kind]; None when the statistics do not say."""
    if table.rows is None:
        return None
    if kind == "rewrite":
        return float(table.total_bytes)
    if kind in ("index", "foreign-key"):
        return float(table.rows)
    return float(table.heap_bytes)


def estimate_statement(
    statement: Statement,
    statistics: TargetStatistics | None,
    rates: Mapping[str, Rate],
) -> Estimate | None:
    """The longest estimate over the tables the statement rewrites, scans or indexes;
    for a statement that only locks a live table (kind ``lock``: no work, so no
    duration), that table's rows and size."""
    facts = statement.facts
    if facts is None or facts.parse_error or not facts.locks:
        return None
    found: list[Estimate] = []
    for lock in facts.locks:
        if lock.via not in (None, "index"):
            continue
        kind = kind_of(facts, lock.rewrites, lock.scans)
        if statement.new_table:
            if kind is not None:
                found.append(Estimate(lock.table, kind, lock.lock, 0, 0, 0.0, new_table=True))
            continue
        stats = statistics.table(lock.table) if statistics is not None else None
        if kind is None:
            if stats is not None and facts.kind not in ("CREATE TABLE", "CREATE TABLE AS"):
                found.append(
                    Estimate(
                        table=lock.table,
                        kind="lock",
                        lock=lock.lock,
                        rows=stats.rows,
                        bytes=stats.total_bytes if stats.rows is not None else None,
                        seconds=None,
                        writes_per_s=stats.writes_per_s,
                    )
                )
            continue
        if stats is None and statistics is not None:
            found.append(Estimate(lock.table, kind, lock.lock, None, None, None, absent=True))
            continue
        rate = rates.get(kind) or DEFAULT_RATES[kind]
        work = work_of(kind, stats) if stats is not None else None
        found.append(
            Estimate(
                table=lock.table,
                kind=kind,
                lock=lock.lock,
                rows=stats.rows if stats else None,
                bytes=stats.total_bytes if stats and stats.rows is not None else None,
                seconds=None if work is None else rate.seconds(work),
                rate_source=rate.source,
                writes_per_s=stats.writes_per_s if stats else None,
            )
        )
    if not found:
        return None
    return max(
        found,
        key=lambda e: (e.kind != "lock", e.seconds is None, e.seconds or 0.0, e.lock.rank),
    )
