"""The result types of the analysis. Plain dataclasses, serialisable with ``asdict``.

These are the contract between the analysis core and everything that consumes it
(report rendering, governance storage, rehearsals). Field names appear in the JSON
report schema (dbgov/schemas/plan.schema.json): change them only with a schema bump.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .details import Detail

if TYPE_CHECKING:
    from .risk.estimates import Estimate

D = TypeVar("D", bound=Detail)


class Severity(enum.StrEnum):
    """How much attention a finding needs, from DESIGN.md's safety classes."""

    INFO = "info"  # safe; shown for context
    WARNING = "warning"  # convention / advice; never blocks
    CARE = "requires-care"  # a reviewer must approve
    PLAN = "never-without-a-plan"  # a reviewer must approve an explicit plan
    ERROR = "error"  # dbgov could not analyse it; a human must look

    @property
    def needs_review(self) -> bool:
        return self in (Severity.CARE, Severity.PLAN, Severity.ERROR)

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    Severity.INFO: 0,
    Severity.WARNING: 1,
    Severity.CARE: 2,
    Severity.PLAN: 3,
    Severity.ERROR: 4,
}


class LockLevel(enum.StrEnum):
    """PostgreSQL table-level lock modes, weakest first (docs: explicit-locking)."""

    ACCESS_SHARE = "ACCESS SHARE"
    ROW_SHARE = "ROW SHARE"
    ROW_EXCLUSIVE = "ROW EXCLUSIVE"
    SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
    SHARE = "SHARE"
    SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
    EXCLUSIVE = "EXCLUSIVE"
    ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"

    @property
    def rank(self) -> int:
        return list(LockLevel).index(self)

    @property
    def blocks_writes(self) -> bool:
        return self.rank >= LockLevel.SHARE.rank

    @property
    def blocks_reads(self) -> bool:
        return self is LockLevel.ACCESS_EXCLUSIVE


@dataclass(frozen=True)
class TableLock:
    """One lock a statement takes on one relation."""

    table: str  # as written, schema-qualified when the SQL qualifies it
    lock: LockLevel
    # True when the statement rewrites the whole table (new relfilenode)
    rewrites: bool = False
    # True when the statement reads every row (validation, index build, …)
    scans: bool = False
    # The lock on the relation's indexes when it differs from ``lock`` (REINDEX TABLE:
    # SHARE on the table, ACCESS EXCLUSIVE on every index); for ``via="index"``, the
    # lock on the named index itself.
    index_lock: LockLevel | None = None
    # How ``table`` stands for the locked relations when the statement does not name
    # them: None (it is the relation), "index" (the statement names only an index: the
    # lock is on that index's table), "dependents" (every table using the named type,
    # domain, function, extension or server: ALTER DOMAIN, DROP … CASCADE),
    # "database" (every table: ANALYZE without a table).
    via: str | None = None


@dataclass(frozen=True)
class StatementFacts:
    """What PostgreSQL's own parser (pglast) tells about one SQL statement."""

    sql: str
    # PostgreSQL's parse-node name, e.g. "CreateStmt", "AlterTableStmt", "IndexStmt"
    node: str
    # A readable kind: "CREATE TABLE", "ALTER TABLE", "CREATE INDEX", "UPDATE", …
    kind: str
    tables: tuple[str, ...] = ()
    locks: tuple[TableLock, ...] = ()
    # ALTER TABLE subcommands / actions in PostgreSQL's words, e.g. "ADD COLUMN",
    # "SET NOT NULL", "ADD CONSTRAINT FOREIGN KEY", "ALTER COLUMN TYPE"
    actions: tuple[str, ...] = ()
    # CREATE/DROP INDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY, …
    concurrently: bool = False
    # False for statements PostgreSQL refuses inside a transaction block
    transactional: bool = True
    # Statement-specific details, a dataclass per statement family (details.py)
    details: Detail = field(default_factory=Detail, compare=False, hash=False)
    # Set when the statement did not parse; then the other facts are empty
    parse_error: str | None = None

    def detail(self, family: type[D]) -> D | None:
        """``details`` when it is of ``family`` (e.g. IndexDetail), else None."""
        return self.details if isinstance(self.details, family) else None

    @property
    def lock(self) -> LockLevel | None:
        """The strongest lock the statement takes on any relation."""
        if not self.locks:
            return None
        return max((t.lock for t in self.locks), key=lambda lk: lk.rank)

    @property
    def rewrites(self) -> bool:
        return any(t.rewrites for t in self.locks)

    @property
    def scans(self) -> bool:
        return any(t.scans for t in self.locks)


@dataclass
class Statement:
    """One SQL statement an operation runs, in the order PostgreSQL receives it."""

    sql: str
    facts: StatementFacts | None = None
    # Django defers some SQL (FK constraints, indexes of new tables) to the end of
    # the migration; it still belongs to the operation that produced it.
    deferred: bool = False
    # True when this table was created earlier in the same plan (nobody uses it yet)
    new_table: bool = False
    # Index in the order `migrate` executes the migration's statements (deferred SQL of
    # every operation runs after all operations); None when not rendered in order.
    position: int | None = None
    # Set when the sandbox refused the statement (its error): the SQL is still what
    # `migrate` would send, but later statements ran without its effect.
    failed: str | None = None
    # Rows, size and time under its lock on the target (analysis/risk; None: no work).
    estimate: Estimate | None = field(default=None, compare=False)


@dataclass
class Operation:
    index: int  # 0-based position in Migration.operations
    type: str  # operation class name, e.g. "AddField"
    description: str  # Django's Operation.describe()
    statements: list[Statement] = field(default_factory=list)
    # RunPython and other operations that cannot be written as SQL
    renders_sql: bool = True
    reversible: bool = True
    # Why the SQL could not be rendered (then `statements` may be incomplete)
    error: str | None = None
    line: int | None = None  # line of the operation in the migration file
    # Facts Django knows and SQL does not, e.g. {"old_type": "integer", "new_type": "bigint"}
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Migration:
    app_label: str
    name: str
    path: str | None  # project-relative path of the migration file
    task: str | None  # the T-NNN the migration file names (see docs/tasks.md)
    atomic: bool
    operations: list[Operation] = field(default_factory=list)
    replaces: list[tuple[str, str]] = field(default_factory=list)
    # Hex sha256 of the migration file's bytes (approvals bind to it)
    sha256: str | None = None
    # False for migrations rendered only because a selected one depends on them
    selected: bool = True
    applied: bool = False
    error: str | None = None
    # Per-operation suppressions declared in the file: {op index: {rule id: reason}}
    ignores: dict[int, dict[str, str]] = field(default_factory=dict)
    # Query patterns the migration's indexes serve: {index name: pattern name}
    index_purpose: dict[str, str] = field(default_factory=dict)
    # "pre" (the running release survives it) or "post" (needs the new release first),
    # and why (analysis/phases.py)
    phase: str = "pre"
    phase_reasons: list[str] = field(default_factory=list)
    # Other linters' ignore markers found in the file, {tool: {rule id or "*": reason}};
    # applied only for the tools DBGOV["HONOUR_IGNORES"] names (analysis/compat.py).
    tool_ignores: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.app_label, self.name)

    @property
    def sql_sha256(self) -> str | None:
        """sha256 of the SQL the migration renders, in execution order (None: none)."""
        statements = [s.sql for _, s in self.statements_in_order()]
        if not statements:
            return None
        return hashlib.sha256("\n".join(statements).encode()).hexdigest()

    @property
    def content_sha256(self) -> str | None:
        """What approvals bind to: the file and the SQL it renders, so that a change in
        anything the migration reads (a .sql file beside it) makes approvals stale."""
        sql = self.sql_sha256
        if sql is None or self.sha256 is None:
            return self.sha256
        return hashlib.sha256(f"{self.sha256}:{sql}".encode()).hexdigest()

    def statements_in_order(self) -> list[tuple[Operation, Statement]]:
        """Every statement with its operation, in the order ``migrate`` executes them.

        Django runs each operation's immediate SQL in operation order and the deferred
        SQL (foreign keys, ``_like`` and FK indexes, CreateModel's unique constraints) of
        all operations at the end of the migration. Statements without a ``position``
        (built by hand, or by an older renderer) fall back to that rule.
        """
        pairs = [(op, s) for op in self.operations for s in op.statements]
        fallback = {
            id(s): i
            for i, (_, s) in enumerate(
                [p for p in pairs if not p[1].deferred] + [p for p in pairs if p[1].deferred]
            )
        }
        return sorted(
            pairs,
            key=lambda p: p[1].position if p[1].position is not None else fallback[id(p[1])],
        )

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"


@dataclass
class Finding:
    rule_id: str
    severity: Severity
    message: str
    safe_alternative: str
    app_label: str | None = None
    migration: str | None = None
    operation_index: int | None = None
    statement_index: int | None = None
    path: str | None = None
    line: int | None = None
    table: str | None = None
    lock: LockLevel | None = None
    rewrites: bool = False
    scans: bool = False
    sql: str | None = None
    # Set when the finding is suppressed with a reason (it then never needs review)
    suppressed: str | None = None
    # The estimate its severity follows (analysis/risk), for the sized rules.
    estimate: Estimate | None = field(default=None, compare=False)

    @property
    def needs_review(self) -> bool:
        return self.suppressed is None and self.severity.needs_review

    @property
    def migration_label(self) -> str | None:
        return f"{self.app_label}.{self.migration}" if self.migration else None


@dataclass
class Plan:
    """One analysis run: the migrations covered and what was found."""

    database: str
    server_version: int | None  # PostgreSQL server_version_num, e.g. 150020
    migrations: list[Migration] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # "pending", "all", "targets" or "task"
    selection: str = "pending"
    task: str | None = None
    duration_s: float = 0.0
    # Where the SQL was rendered ("embedded sandbox, PostgreSQL 15 (…)"); None when
    # every migration came from the render cache.
    sandbox: str | None = None
    # Migrations whose rendering came from the render cache.
    cache_hits: int = 0
    # Things the reader should know about how the plan was made (version differences,
    # an opted-in target-server sandbox, …).
    notes: list[str] = field(default_factory=list)
    # The renderer's counters (dbgov.analysis.render.RenderStats), for benchmarks.
    render_stats: Any = field(default=None, compare=False, repr=False)

    @property
    def selected(self) -> list[Migration]:
        return [m for m in self.migrations if m.selected]

    @property
    def needs_review(self) -> bool:
        return any(f.needs_review for f in self.findings)
