"""The rule catalogue: one module per rule, ``rules/<category>/<rule_id>.py`` (the id
with underscores), each with its docs text and bad / good examples; collected here.

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

from .. import compat
from ..details import IndexDetail, SelectDetail, SetDetail
from ..facts import created_before_each, created_table
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
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        importlib.import_module(info.name)


def all_rules() -> list[type[Rule]]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda r: (r.category, r.id))


def _settings() -> dict[str, Any]:
    from ...conf import dbgov_settings

    return dict(dbgov_settings.merged)


def active_rules(
    settings: Mapping[str, Any] | None = None, *, scope: str | None = None
) -> list[Rule]:
    """The rules to run: not disabled, opt-in ones only when enabled; ``scope="sql"``
    keeps the rules that need nothing but SQL (``dbgov lint``)."""
    settings = settings if settings is not None else _settings()
    disabled = set(settings.get("DISABLED_RULES", ()))
    enabled = set(settings.get("ENABLED_RULES", ()))
    return [
        cls()
        for cls in all_rules()
        if cls.id not in disabled
        and (not cls.opt_in or cls.id in enabled)
        and (scope is None or cls.scope == scope)
    ]


_IGNORE_COMMENT = re.compile(
    r"--[ \t]*dbgov:ignore[ \t]+(?P<rule>[\w.-]+)(?:[ \t]+(?P<reason>\S.*?))?[ \t]*$", re.M
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


class _Lazy:
    """A suppression map computed on first use (most statements have no finding)."""

    def __init__(self, func: Any, where: _Located) -> None:
        self.func, self.where = func, where
        self._value: Mapping[str, str | None] | None = None

    def value(self) -> Mapping[str, str | None]:
        if self._value is None:
            self._value = self.func(self.where)
        return self._value


# Team conventions and process apply to the project's own apps, not to migrations it
# installs from third-party packages (which it cannot edit).
TEAM_CATEGORIES = frozenset({"process", "conventions", "types"})


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
        self.convention_apps = settings.get("CONVENTION_APPS")
        unwaivable = settings.get("UNWAIVABLE_SEVERITY")
        self.unwaivable = Severity(unwaivable) if unwaivable else None
        self.honoured = compat.honoured(settings)
        # only the rules that implement each hook (most implement one)
        self.statement_rules = [
            r for r in rules if type(r).check_statement is not Rule.check_statement
        ]
        self._by_kind: dict[str, list[Rule]] = {}
        self.operation_rules = [
            r for r in rules if type(r).check_operation is not Rule.check_operation
        ]
        self.migration_rules = [
            r for r in rules if type(r).check_migration is not Rule.check_migration
        ]

    def governed(self, migration: Migration | None) -> bool:
        """Whether the team's conventions apply: DBGOV["CONVENTION_APPS"], or by default
        the apps inside the project (their path is relative to BASE_DIR)."""
        if migration is None or migration.path is None:
            return True  # lint: the files given
        if self.convention_apps is not None:
            return migration.app_label in self.convention_apps
        return not migration.path.startswith("/")

    def emit(
        self,
        rule: Rule,
        hits: Iterable[Hit],
        where: _Located,
        *,
        suppress: Mapping[str, str | None] | _Lazy,
    ) -> None:
        if rule.category in TEAM_CATEGORIES and not self.governed(where.migration):
            return
        for hit in hits:
            if isinstance(suppress, _Lazy):
                suppress = suppress.value()
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
                or (facts.details.line if facts else None),
                table=hit.table or (facts.tables[0] if facts and facts.tables else None),
                lock=hit.lock or (facts.lock if facts else None),
                rewrites=hit.rewrites or bool(facts and facts.rewrites),
                scans=hit.scans or bool(facts and facts.scans),
                sql=where.statement.sql if where.statement else None,
            )
            reason = suppress.get(rule.id)
            if not reason and rule.category != "analysis":
                # a whole-file / whole-migration marker of another linter (compat.py)
                reason = suppress.get(compat.EVERY_RULE)
            if reason and self.unwaivable and severity.rank >= self.unwaivable.rank:
                # An author cannot waive this alone: reviewers see the reason.
                finding.message += (
                    f" [waiver refused: {reason!r}: findings at or above "
                    f"{self.unwaivable} need approvals (DBGOV['UNWAIVABLE_SEVERITY'])]"
                )
            elif reason:
                finding.suppressed = reason
            self.findings.append(finding)

    def _rules_for(self, kind: str) -> list[Rule]:
        """The statement rules that can fire on this kind of statement (memoised)."""
        rules = self._by_kind.get(kind)
        if rules is None:
            positions = _kind_index(tuple(type(r) for r in self.statement_rules), kind)
            rules = [self.statement_rules[i] for i in positions]
            self._by_kind[kind] = rules
        return rules

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
        timeouts: dict[str, bool] = {}
        earlier = created_before_each([w.facts for w in items], in_transaction=in_transaction)
        created_here = frozenset(
            t for t in (created_table(w.facts) for w in items if w.facts is not None) if t
        )
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
                # the live list: rules read it during their check, before it grows
                previous_in_transaction=previous,
                timeout_set=any(timeouts.values()),
                operation=where.operation,
                migration=where.migration,
                source_sql=source_sql_for(where) if source_sql_for else None,
                created_here=created_here,
                created_earlier=earlier[index],
            )
            only_new = bool(facts.tables) and all(ctx.is_new(t) for t in facts.tables)
            suppress = _Lazy(suppress_for, where)  # read only when a rule fires
            for rule in self._rules_for(facts.kind):
                if rule.locking and only_new:
                    continue
                if rule.needs_actions is not None and rule.needs_actions.isdisjoint(facts.actions):
                    continue
                hits = list(rule.check_statement(ctx))
                if hits:
                    self.emit(rule, _with_index(hits, index), where, suppress=suppress)
            kind = facts.kind
            if kind in ("BEGIN", "START TRANSACTION"):
                in_tx, previous = True, []
            elif kind in ("COMMIT", "ROLLBACK", "END"):
                in_tx, previous = False, []
            elif in_tx:
                previous.append(facts)
            _track_timeouts(facts, timeouts)


def _track_timeouts(facts: StatementFacts, timeouts: dict[str, bool]) -> None:
    """Whether lock_timeout / statement_timeout is in force after ``facts``: SET and
    set_config() turn it on (unless to 0 / DEFAULT), RESET turns it off."""
    names = ("lock_timeout", "statement_timeout")
    select = facts.detail(SelectDetail)
    setting = facts.detail(SetDetail)
    if select is not None and facts.kind == "SELECT":
        for name in names:
            value = select.set_config.get(name)
            if value is not None:
                timeouts[name] = _timeout_on(value)
    elif setting is None or setting.name is None:
        return
    elif facts.kind == "SET" and setting.name in names:
        timeouts[setting.name] = _timeout_on("0" if setting.value is None else setting.value)
    elif facts.kind == "RESET" and setting.name == "ALL":
        timeouts.clear()
    elif facts.kind == "RESET" and setting.name in names:
        timeouts[setting.name] = False


def _timeout_on(value: Any) -> bool:
    return str(value).strip("'\" ") not in ("0", "", "DEFAULT")


@cache
def _kind_index(classes: tuple[type[Rule], ...], kind: str) -> tuple[int, ...]:
    return tuple(i for i, c in enumerate(classes) if c.kinds is None or kind in c.kinds)


def _with_index(hits: Iterable[Hit], index: int) -> Iterable[Hit]:
    for hit in hits:
        if hit.statement_index is None:
            hit.statement_index = index
        yield hit


def _migration_suppressions(
    migration: Migration, operation: Operation | None, honoured: frozenset[str] = frozenset()
) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for tool in sorted(honoured & migration.tool_ignores.keys()):
        found.update(migration.tool_ignores[tool])
    found.update(migration.ignores.get(-1, {}))
    if operation is not None:
        found.update(migration.ignores.get(operation.index, {}))
    return found


def evaluate(
    plan: Plan,
    django_migrations: Mapping[tuple[str, str], Any] | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    scope: str | None = None,
    created_by: Mapping[str, str] | None = None,
    query_patterns: frozenset[str] | None = None,
) -> list[Finding]:
    """All findings of the active rules over the selected migrations of ``plan``
    (``scope="sql"``: only the rules that need no Django objects, for ``dbgov lint``)."""
    settings = settings if settings is not None else _settings()
    plan_ctx = PlanContext(
        pg_version=_pg_version(plan, settings),
        created_by=dict(created_by or {}),
        settings=dict(settings),
        indexed_columns=_indexed_columns(plan),
        query_patterns=query_patterns,
    )
    ev = _Evaluator(active_rules(settings, scope=scope), plan_ctx, settings)
    django_migrations = django_migrations or {}
    for migration in plan.migrations:
        if not migration.selected:
            continue
        dj = django_migrations.get(migration.key)
        plan_ctx.current_task = migration.task
        m_ctx = MigrationContext(plan_ctx, migration, dj)
        for rule in ev.migration_rules:
            hits = list(rule.check_migration(m_ctx))
            if hits:
                ev.emit(
                    rule,
                    hits,
                    _Located(migration, None, None, None),
                    suppress=_migration_suppressions(migration, None, ev.honoured),
                )
        items: list[_Located] = []
        for operation in migration.operations:
            dj_op = dj.operations[operation.index] if dj is not None else None
            op_ctx = OperationContext(plan_ctx, operation, migration, dj_op, dj)
            only_new = op_ctx.touches_only_new_tables()
            for rule in ev.operation_rules:
                if rule.locking and only_new:
                    continue
                hits = list(rule.check_operation(op_ctx))
                if hits:
                    ev.emit(
                        rule,
                        hits,
                        _Located(migration, operation, None, None),
                        suppress=_migration_suppressions(migration, operation, ev.honoured),
                    )

        # Statement rules see the statements in the order `migrate` executes them
        # (deferred SQL last), which is what lock-order rules reason about.
        items.extend(
            _Located(migration, operation, s, s.facts)
            for operation, s in migration.statements_in_order()
        )

        def suppress_for(where: _Located, _dj: Any = dj) -> dict[str, str | None]:
            found = _migration_suppressions(where.migration, where.operation, ev.honoured)  # type: ignore[arg-type]
            raw = _raw_sql(_dj, where.operation)
            squawk = compat.SQUAWK in ev.honoured
            if raw:
                if squawk:
                    found.update(compat.squawk_file_ignores(raw))
                    found.update(compat.squawk_statement_ignores(raw))
                found.update(sql_suppressions(raw))
            if where.facts is not None:
                # comments written just before the statement (or after it on its line)
                # and inside it: `-- dbgov:ignore <rule> <reason>`
                comments = "\n".join(where.facts.details.comments)
                if squawk:
                    found.update(compat.squawk_statement_ignores(comments))
                found.update(sql_suppressions(comments + "\n" + where.facts.sql))
            return found

        ev.statements(
            items,
            in_transaction=migration.atomic,
            suppress_for=suppress_for,
            source_sql_for=lambda where, _dj=dj: _raw_sql(_dj, where.operation),
        )
    return sorted(ev.findings, key=_order(plan))


def _indexed_columns(plan: Plan) -> dict[str, set[tuple[str, ...]]]:
    """{table: columns} of the indexes, primary keys and unique constraints the plan adds."""
    from ..facts import normalize_table
    from .helpers import new_constraints, target

    found: dict[str, set[tuple[str, ...]]] = {}
    for m in plan.migrations:
        for op in m.operations:
            for s in op.statements:
                f = s.facts
                if f is None or f.kind not in ("CREATE INDEX", "CREATE TABLE", "ALTER TABLE"):
                    continue
                table = normalize_table(target(f) or "")
                index = f.detail(IndexDetail)
                if index is not None:
                    found.setdefault(table, set()).add(index.columns)
                for con in new_constraints(f):
                    if con.type in ("PRIMARY KEY", "UNIQUE"):
                        cols = tuple(c for c in con.columns if c)
                        found.setdefault(table, set()).add(cols)
    return found


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
