"""The rule catalogue: one small module per rule family, collected here.

``evaluate(plan)`` runs every active rule over a rendered plan and returns findings,
with settings (disabled / opt-in rules, severity overrides) and suppressions
(``dbgov_ignore`` in migration files, ``-- dbgov:ignore <rule> <reason>`` in SQL)
applied. Rule ids are stable: they appear in approvals and in suppressions.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..model import Finding, Migration, Operation, Plan, Severity, Statement, StatementFacts
from .base import (
    Hit,
    MigrationContext,
    OperationContext,
    PlanContext,
    Rule,
    StatementContext,
)

__all__ = [
    "Hit",
    "MigrationContext",
    "OperationContext",
    "PlanContext",
    "Rule",
    "StatementContext",
    "all_rules",
    "active_rules",
    "evaluate",
    "register",
]

_REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the catalogue (ids must be unique)."""
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise ValueError(f"duplicate rule id {cls.id!r}")
    _REGISTRY[cls.id] = cls
    return cls


@cache
def _load() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


def all_rules() -> list[type[Rule]]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda r: (r.category, r.id))


def _settings() -> dict[str, Any]:
    from ...conf import dbgov_settings

    return dict(dbgov_settings.merged)


def active_rules(settings: Mapping[str, Any] | None = None) -> list[Rule]:
    settings = settings if settings is not None else _settings()
    disabled = set(settings.get("DISABLED_RULES", ()))
    enabled = set(settings.get("ENABLED_RULES", ()))
    return [
        cls()
        for cls in all_rules()
        if cls.id not in disabled and (not cls.opt_in or cls.id in enabled)
    ]


_IGNORE_COMMENT = re.compile(
    r"--\s*dbgov:ignore\s+(?P<rule>[\w.-]+)(?:\s+(?P<reason>\S.*?))?\s*$", re.M
)


def sql_suppressions(sql: str) -> dict[str, str | None]:
    """``-- dbgov:ignore <rule-id> <reason>`` comments in SQL; reason None when missing."""
    return {m["rule"]: m["reason"] for m in _IGNORE_COMMENT.finditer(sql or "")}


@dataclass
class _Located:
    migration: Migration | None
    operation: Operation | None
    statement: Statement | None
    facts: StatementFacts | None


class _Evaluator:
    def __init__(
        self, rules: list[Rule], plan_ctx: PlanContext, settings: Mapping[str, Any]
    ) -> None:
        self.rules = rules
        self.plan_ctx = plan_ctx
        self.overrides = {
            k: Severity(v) for k, v in (settings.get("SEVERITY_OVERRIDES") or {}).items()
        }
        self.findings: list[Finding] = []

    def emit(
        self, rule: Rule, hits: Iterable[Hit], where: _Located, *, suppress: dict[str, str | None]
    ) -> None:
        for hit in hits:
            facts = where.facts
            severity = hit.severity or self.overrides.get(rule.id) or rule.severity
            migration, operation = where.migration, where.operation
            finding = Finding(
                rule_id=rule.id,
                severity=severity,
                message=hit.message or rule.summary,
                safe_alternative=rule.safe_alternative,
                app_label=migration.app_label if migration else None,
                migration=migration.name if migration else None,
                operation_index=operation.index if operation else None,
                statement_index=hit.statement_index,
                path=migration.path if migration else None,
                line=(operation.line if operation else None)
                or (facts.details.get("line") if facts else None),
                table=hit.table or (facts.tables[0] if facts and facts.tables else None),
                lock=hit.lock or (facts.lock if facts else None),
                rewrites=hit.rewrites or bool(facts and facts.rewrites),
                scans=hit.scans or bool(facts and facts.scans),
                sql=where.statement.sql if where.statement else None,
            )
            if rule.id in suppress:
                reason = suppress[rule.id]
                if reason:
                    finding.suppressed = reason
            self.findings.append(finding)

    def statements(
        self,
        items: list[_Located],
        *,
        in_transaction: bool,
        suppress_for: Any,
        source_sql_for: Any = None,
    ) -> None:
        """Run statement rules over statements in execution order, tracking the transaction."""
        in_tx = in_transaction
        previous: list[StatementFacts] = []
        timeout = False
        for index, where in enumerate(items):
            facts = where.facts
            if facts is None:
                continue
            ctx = StatementContext(
                plan=self.plan_ctx,
                facts=facts,
                statement=where.statement,
                index=index,
                in_transaction=in_tx,
                previous_in_transaction=list(previous),
                timeout_set=timeout,
                operation=where.operation,
                migration=where.migration,
                source_sql=source_sql_for(where) if source_sql_for else None,
            )
            for rule in self.rules:
                if rule.locking and all(ctx.is_new(t) for t in facts.tables) and facts.tables:
                    continue
                self.emit(
                    rule,
                    _with_index(rule.check_statement(ctx), index),
                    where,
                    suppress=suppress_for(where),
                )
            kind = facts.kind
            if kind in ("BEGIN", "START TRANSACTION"):
                in_tx, previous = True, []
            elif kind in ("COMMIT", "ROLLBACK", "END"):
                in_tx, previous = False, []
            elif in_tx:
                previous.append(facts)
            if kind == "SET" and facts.details.get("name") in ("lock_timeout", "statement_timeout"):
                timeout = str(facts.details.get("value", "0")).strip("'\" ") not in (
                    "0",
                    "",
                    "DEFAULT",
                )


def _with_index(hits: Iterable[Hit], index: int) -> Iterable[Hit]:
    for hit in hits:
        if hit.statement_index is None:
            hit.statement_index = index
        yield hit


def _migration_suppressions(
    migration: Migration, operation: Operation | None
) -> dict[str, str | None]:
    if operation is None:
        return dict(migration.ignores.get(-1, {}))
    return {**migration.ignores.get(-1, {}), **migration.ignores.get(operation.index, {})}


def evaluate(
    plan: Plan,
    django_migrations: Mapping[tuple[str, str], Any] | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    created_by: Mapping[str, str] | None = None,
) -> list[Finding]:
    """All findings of the active rules over the selected migrations of ``plan``."""
    settings = settings if settings is not None else _settings()
    plan_ctx = PlanContext(
        pg_version=_pg_version(plan, settings),
        created_by=dict(created_by or {}),
        settings=dict(settings),
    )
    ev = _Evaluator(active_rules(settings), plan_ctx, settings)
    django_migrations = django_migrations or {}
    for migration in plan.migrations:
        if not migration.selected:
            continue
        dj = django_migrations.get(migration.key)
        plan_ctx.current_task = migration.task
        for rule in ev.rules:
            ev.emit(
                rule,
                rule.check_migration(MigrationContext(plan_ctx, migration, dj)),
                _Located(migration, None, None, None),
                suppress=_migration_suppressions(migration, None),
            )
        items: list[_Located] = []
        for operation in migration.operations:
            dj_op = dj.operations[operation.index] if dj is not None else None
            op_ctx = OperationContext(plan_ctx, operation, migration, dj_op, dj)
            for rule in ev.rules:
                if rule.locking and op_ctx.touches_only_new_tables():
                    continue
                ev.emit(
                    rule,
                    rule.check_operation(op_ctx),
                    _Located(migration, operation, None, None),
                    suppress=_migration_suppressions(migration, operation),
                )
            items.extend(_Located(migration, operation, s, s.facts) for s in operation.statements)

        def suppress_for(where: _Located, _dj: Any = dj) -> dict[str, str | None]:
            found = _migration_suppressions(where.migration, where.operation)  # type: ignore[arg-type]
            raw = _raw_sql(_dj, where.operation)
            if raw:
                found.update(sql_suppressions(raw))
            return found

        ev.statements(
            items,
            in_transaction=migration.atomic,
            suppress_for=suppress_for,
            source_sql_for=lambda where, _dj=dj: _raw_sql(_dj, where.operation),
        )
    return sorted(ev.findings, key=_order(plan))


def _raw_sql(dj: Any, operation: Operation | None) -> str | None:
    """The SQL a RunSQL operation was written with (Django strips its comments)."""
    if dj is None or operation is None:
        return None
    op = dj.operations[operation.index]
    sql = getattr(op, "sql", None)
    if isinstance(sql, str):
        return sql
    if isinstance(sql, list | tuple):
        return "\n".join(s if isinstance(s, str) else str(s[0]) for s in sql)
    return None


def _pg_version(plan: Plan, settings: Mapping[str, Any]) -> int | None:
    if plan.server_version:
        return plan.server_version
    configured = settings.get("PG_VERSION")
    return int(configured) * 10000 if configured and int(configured) < 1000 else configured


def _order(plan: Plan) -> Any:
    position = {m.key: i for i, m in enumerate(plan.migrations)}

    def key(f: Finding) -> tuple[int, int, int, int]:
        return (
            position.get((f.app_label or "", f.migration or ""), -1),
            -1 if f.operation_index is None else f.operation_index,
            -1 if f.statement_index is None else f.statement_index,
            -f.severity.rank,
        )

    return key
