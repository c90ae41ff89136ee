"""Risk in the target's own rows and seconds (docs/risk.md).

``attach_estimates`` is the plan engine's post-pass (after the rules, before the
report): every statement on a live table that rewrites, scans, builds an index or
validates gets an ``Estimate`` (``Statement.estimate``), and the findings of the sized
rules are regraded by it (``Finding.estimate``, severity, message).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..model import Migration, Plan
from .estimates import DEFAULT_RATES, KINDS, UNITS, Estimate, Rate, estimate_statement
from .regrade import DEFAULT_THRESHOLDS, SIZED_RULES, describe, regrade
from .stats import TableStats, TargetStatistics, read_statistics

__all__ = [
    "DEFAULT_RATES",
    "DEFAULT_THRESHOLDS",
    "KINDS",
    "SIZED_RULES",
    "UNITS",
    "Estimate",
    "Rate",
    "RiskInputs",
    "Rehearsed",
    "TableStats",
    "TargetStatistics",
    "attach_estimates",
    "attach_risk",
    "describe",
    "read_statistics",
    "sql_key",
]


def sql_key(sql: str) -> str:
    """A statement's SQL as rehearsals and plans both write it (no final ';')."""
    return sql.strip().rstrip(";").strip()


@dataclass(frozen=True)
class Rehearsed:
    """A statement's duration on the staging copy and the rows its table had there."""

    seconds: float
    rows: int | None = None


@dataclass
class RiskInputs:
    """What rehearsals measured: throughput per kind, durations per (migration, SQL)."""

    rates: Mapping[str, Rate] = field(default_factory=dict)
    rehearsed: Mapping[tuple[str, str, str], Rehearsed] = field(default_factory=dict)


def attach_estimates(
    plan: Plan,
    statistics: TargetStatistics | None,
    inputs: RiskInputs | None = None,
    *,
    thresholds: Mapping[str, Mapping[str, float]] = DEFAULT_THRESHOLDS,
    regrade_findings: bool = True,
) -> None:
    inputs = inputs or RiskInputs()
    rates = {**DEFAULT_RATES, **inputs.rates}
    by_sql: dict[tuple[str, str, int, str], Estimate] = {}
    for migration in plan.migrations:
        for operation in migration.operations:
            for statement in operation.statements:
                found = estimate_statement(statement, statistics, rates)
                if found is None:
                    continue
                measured = inputs.rehearsed.get(
                    (migration.app_label, migration.name, sql_key(statement.sql))
                )
                if measured is not None:
                    found = replace(
                        found, rehearsed_s=measured.seconds, rehearsed_rows=measured.rows
                    )
                statement.estimate = found
        if migration.atomic:
            _held_until_commit(migration)
        for operation in migration.operations:
            for statement in operation.statements:
                if statement.estimate is not None:
                    key = (migration.app_label, migration.name, operation.index, statement.sql)
                    by_sql[key] = statement.estimate
    if not regrade_findings:
        return
    for finding in plan.findings:
        if finding.rule_id not in SIZED_RULES or finding.suppressed or finding.sql is None:
            continue
        key = (
            finding.app_label or "",
            finding.migration or "",
            finding.operation_index if finding.operation_index is not None else -1,
            finding.sql,
        )
        estimate = by_sql.get(key)
        if estimate is not None:
            regrade(finding, estimate, thresholds)


def _held_until_commit(migration: Migration) -> None:
    """In an atomic migration a lock is held until COMMIT: through every later
    statement's work too (an index built after ALTER TABLE keeps ACCESS EXCLUSIVE)."""
    remaining = 0.0
    for _, statement in reversed(migration.statements_in_order()):
        e = statement.estimate
        if e is None or e.kind == "lock" or e.seconds is None:
            continue
        later = remaining
        remaining += e.seconds
        if later > 0.001:
            statement.estimate = replace(e, held_s=remaining)


def attach_risk(plan: Plan, statistics: TargetStatistics | None) -> None:
    """``attach_estimates`` with the settings: thresholds, regrading, measured inputs."""
    from django.utils.module_loading import import_string

    from ...conf import dbgov_settings
    from ..errors import AnalysisError

    inputs = None
    path = dbgov_settings.RISK_INPUTS
    if path:
        try:
            source = import_string(path)
        except ImportError as exc:
            raise AnalysisError(
                f"DBGOV['RISK_INPUTS'] = {path!r} cannot be imported: {exc}"
            ) from exc
        inputs = source(statistics.server if statistics is not None else None)
    attach_estimates(
        plan,
        statistics,
        inputs,
        thresholds=dbgov_settings.RISK_THRESHOLDS,
        regrade_findings=bool(dbgov_settings.RISK_REGRADE),
    )
