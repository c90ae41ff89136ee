"""Rehearsals close the loop of the risk estimates (docs/risk.md).

While a rehearsal applies a migration on the staging copy, each statement's duration is
known; with the copy's statistics read just before the migration, that gives the work
the statement did (dbgov.analysis.risk.estimates.work_of) and so a throughput for its
kind on that server (``Throughput``). The plan then uses the measured throughput instead
of the defaults, and shows each statement's rehearsed duration beside its estimate.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import F

from ..analysis.model import Statement
from ..analysis.risk import (
    DEFAULT_RATES,
    Rate,
    Rehearsed,
    RiskInputs,
    TargetStatistics,
    sql_key,
)
from ..analysis.risk.estimates import estimate_statement, work_of
from ..analysis.sql import analyse_statement

__all__ = ["MIN_MEASURED_MS", "annotate_and_record", "record", "risk_inputs", "statistics_of"]

# Statements faster than this measure mostly fixed overhead (catalog work, fsync), not
# throughput: they are shown but not counted.
MIN_MEASURED_MS = 20.0


def record(server: str, kind: str, work: float, seconds: float) -> None:
    """Add one measured statement to the server's throughput of ``kind``."""
    from ..models import Throughput

    Throughput.objects.get_or_create(server=server, kind=kind)
    Throughput.objects.filter(server=server, kind=kind).update(
        work=F("work") + work,
        seconds=F("seconds") + seconds,
        samples=F("samples") + 1,
        inv_t2=F("inv_t2") + 1 / seconds**2,
        w_t2=F("w_t2") + work / seconds**2,
        ww_t2=F("ww_t2") + work * work / seconds**2,
        inv_t=F("inv_t") + 1 / seconds,
        w_t=F("w_t") + work / seconds,
    )


def annotate_and_record(
    statements: list[dict[str, Any]], statistics: TargetStatistics
) -> list[dict[str, Any]]:
    """Add ``kind``, ``table``, ``table_rows`` and ``work`` to each rehearsed statement
    that rewrites, scans, validates or builds an index, and record its throughput."""
    for doc in statements:
        statement = Statement(sql=doc["sql"], facts=analyse_statement(doc["sql"]))
        estimate = estimate_statement(statement, statistics, DEFAULT_RATES)
        if estimate is None or estimate.rows is None or estimate.kind == "lock":
            continue
        table = statistics.table(estimate.table)
        work = work_of(estimate.kind, table) if table is not None else None
        doc.update(kind=estimate.kind, table=estimate.table, table_rows=estimate.rows, work=work)
        ms = float(doc.get("ms") or 0.0)
        if work and ms >= MIN_MEASURED_MS:
            record(statistics.server, estimate.kind, work, ms / 1000)
    return statements


def risk_inputs(server: str | None) -> RiskInputs:
    """Measured throughputs (this server's; else the most measured other server's, e.g.
    staging's) and the last rehearsed duration of each statement (``RISK_INPUTS``)."""
    from ..models import MigrationRehearsal, Throughput

    try:
        with transaction.atomic():
            measured = list(Throughput.objects.filter(samples__gt=0, seconds__gt=0))
            rehearsals = list(
                MigrationRehearsal.objects.filter(status=MigrationRehearsal.Status.OK)
                .order_by("app_label", "name", "-run__created_at", "-pk")
                .distinct("app_label", "name")
                .values_list("app_label", "name", "statements")
            )
    except DatabaseError:  # dbgov's tables not migrated yet (a first `migrate`)
        return RiskInputs()
    rates: dict[str, Rate] = {}
    for kind in DEFAULT_RATES:
        rows = [t for t in measured if t.kind == kind]
        mine = [t for t in rows if t.server == server]
        best = mine[0] if mine else max(rows, key=lambda t: t.samples, default=None)
        if best is not None:
            where = "this server" if best.server == server else f"server {best.server}"
            fitted = best.fitted(f"measured on {where} ({best.samples} statement(s))")
            if fitted is not None:
                rates[kind] = fitted
    rehearsed: dict[tuple[str, str, str], Rehearsed] = {}
    for app_label, name, statements in rehearsals:
        for doc in statements or []:
            if isinstance(doc, dict) and doc.get("sql") and doc.get("ms") is not None:
                rehearsed[(app_label, name, sql_key(doc["sql"]))] = Rehearsed(
                    seconds=float(doc["ms"]) / 1000, rows=doc.get("table_rows")
                )
    return RiskInputs(rates=rates, rehearsed=rehearsed)


def statistics_of(connection: Any) -> TargetStatistics:
    """The statistics of a Django connection's database (the staging copy)."""
    from ..analysis.risk import read_statistics

    connection.ensure_connection()
    return read_statistics(connection.connection)
