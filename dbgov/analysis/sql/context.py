"""What the statement handlers share: the schema the statements run on, the lock
accumulator, and how facts are made."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dbgov.analysis import locks as L
from dbgov.analysis.details import Detail
from dbgov.analysis.model import LockLevel, StatementFacts, TableLock
from dbgov.analysis.schema import BUILTIN, ForeignKey, Schema

# Byte offset of the statement being analysed within its script (the parse tree's
# locations count from the script's start). Analysis is synchronous: one slot suffices.
_OFFSET = [0]


# The schema the statements being analysed run on (same reason: one slot suffices).
_SCHEMA: list[Schema] = [BUILTIN]


def _schema() -> Schema:
    return _SCHEMA[0]


AE = LockLevel.ACCESS_EXCLUSIVE


def _foreign_keys(table: str) -> Mapping[str, ForeignKey]:
    lookup = _schema().foreign_keys
    return (lookup(table) if lookup and table else None) or {}


def _referenced_by(table: str) -> tuple[str, ...]:
    lookup = _schema().referenced_by
    return (lookup(table) if lookup and table else None) or ()


def _partition_parent(table: str) -> str | None:
    lookup = _schema().partition_parent
    return lookup(table) if lookup and table else None


class _Acc:
    """Accumulates per-relation locks (strongest wins) in first-seen order."""

    def __init__(self) -> None:
        self.tables: list[str] = []
        self.locks: dict[str, list[Any]] = {}
        self.other: list[TableLock] = []  # locks on relations the statement does not name

    def table(self, name: str) -> None:
        if name and name not in self.tables:
            self.tables.append(name)

    def lock(
        self,
        name: str,
        level: LockLevel,
        rewrites: bool = False,
        scans: bool = False,
        *,
        index_lock: LockLevel | None = None,
        via: str | None = None,
    ) -> None:
        if not name:
            return
        self.table(name)
        cur = self.locks.get(name)
        if cur is None:
            self.locks[name] = [level, rewrites, scans, index_lock, via]
        else:
            cur[0] = L.strongest((cur[0], level))
            cur[1] = cur[1] or rewrites
            cur[2] = cur[2] or scans
            if index_lock is not None:
                cur[3] = index_lock if cur[3] is None else L.strongest((cur[3], index_lock))

    def dependents(self, name: str, level: LockLevel, *, via: str = "dependents") -> None:
        """``level`` on every table that uses ``name`` (a type, domain, function …)."""
        self.other.append(TableLock(table=name, lock=level, via=via))

    def result(self) -> tuple[tuple[str, ...], tuple[TableLock, ...]]:
        return tuple(self.tables), tuple(
            TableLock(table=name, lock=lv, rewrites=rw, scans=sc, index_lock=il, via=via)
            for name in self.tables
            if name in self.locks
            for lv, rw, sc, il, via in (self.locks[name],)
        ) + tuple(self.other)


def _make(
    text: str,
    node: str,
    kind: str,
    acc: _Acc | None,
    details: Detail,
    *,
    actions: Iterable[str] = (),
    concurrently: bool = False,
    transactional: bool = True,
) -> StatementFacts:
    tables, table_locks = acc.result() if acc else ((), ())
    return StatementFacts(
        sql=text,
        node=node,
        kind=kind,
        tables=tables,
        locks=table_locks,
        actions=tuple(dict.fromkeys(actions)),
        concurrently=concurrently,
        transactional=transactional,
        details=details,
    )


def _statement_lock(acc: _Acc, name: str, kind: str) -> None:
    level, rewrites, scans = L.STATEMENT_LOCKS[kind]
    acc.lock(name, level, rewrites, scans)
