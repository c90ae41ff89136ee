"""``dbgov lint``: the SQL rules over plain .sql files, without a Django project.

Each file is one migration: its statements are split and analysed with PostgreSQL's
parser (dbgov.analysis.sql), run in order through the rules whose scope is "sql",
and reported like ``dbgov plan`` (text, JSON with the plan schema, SARIF).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .analysis.model import Migration, Operation, Plan, Statement
from .analysis.sql import split_and_analyse_each

__all__ = [
    "LintError",
    "add_lint_arguments",
    "collect_files",
    "lint_files",
    "lint_sql",
    "write_lint",
]


def add_lint_arguments(parser: Any) -> None:
    """The options of `dbgov lint` (manage.py and python -m dbgov)."""
    parser.add_argument(
        "paths", nargs="+", metavar="FILE.sql|DIR", help="files, or directories searched for *.sql"
    )
    parser.add_argument(
        "--assume-in-transaction",
        action="store_true",
        help="each file runs inside a transaction (as a Django atomic migration does)",
    )
    parser.add_argument(
        "--pg-version",
        type=int,
        metavar="N",
        help='PostgreSQL major version to reason about (default: DBGOV["PG_VERSION"], else the newest)',
    )
    parser.add_argument(
        "--format",
        choices=["text", "json", "sarif"],
        default="text",
        help="text for people; json (the plan schema) or sarif 2.1.0 for machines",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes to lint with (default: one per CPU from 64 files on, else 1; "
        "0: one per CPU)",
    )


def write_lint(plan: Plan, fmt: str, write: Any, style: Any) -> None:
    """Write the report in ``fmt`` through ``write(text)``."""
    if fmt == "text":
        write(render_lint_text(plan, style))
        return
    import json

    from .analysis.report import to_json, to_sarif

    if fmt == "json":
        write(json.dumps(to_json(plan), indent=2) + "\n")
    else:
        from .analysis.rules import all_rules

        write(json.dumps(to_sarif(plan, all_rules()), indent=2) + "\n")


class LintError(Exception):
    """Bad input (a missing path, an unreadable file): one clear message."""


def collect_files(paths: Iterable[str]) -> list[Path]:
    """The .sql files named or found (recursively, sorted) under directories."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.sql") if p.is_file())
            if not found:
                raise LintError(f"{raw}: {_no_sql_reason(path)}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise LintError(f"{raw}: no such file or directory")
    return files


def _no_sql_reason(folder: Path) -> str:
    """Why a folder gave nothing to lint, and what to run instead."""
    if any(folder.rglob("[0-9]*.py")):
        return (
            "no .sql files, only Django migrations (.py): plan those with "
            "`manage.py dbgov plan` (lint reads plain SQL)"
        )
    return "no .sql files to lint"


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


def _migration(
    name: str, sql: str, data: bytes, *, atomic: bool, pg_version: int | None
) -> Migration:
    statements = [
        Statement(sql=f.sql, facts=f) for f in split_and_analyse_each(sql, pg_version=pg_version)
    ]
    from .analysis.compat import SQUAWK, squawk_file_ignores

    operation = Operation(
        index=0, type="SQL", description=f"SQL file {name}", statements=statements
    )
    file_ignores = squawk_file_ignores(sql)
    return Migration(
        app_label="sql",
        name=name,
        path=name,
        task=None,
        atomic=atomic,
        operations=[operation],
        sha256=hashlib.sha256(data).hexdigest(),
        tool_ignores={SQUAWK: file_ignores} if file_ignores else {},
    )


def lint_sql(
    sources: Mapping[str, str],
    *,
    assume_in_transaction: bool = False,
    pg_version: int | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Plan:
    """Lint SQL texts ({name: sql}); ``pg_version`` is a major version (15) or a
    server_version_num (150004)."""
    from .analysis.locks import pg_major
    from .analysis.rules import evaluate

    settings = dict(settings) if settings is not None else _settings()
    version = pg_version or settings.get("PG_VERSION")
    server_version = pg_major(int(version)) * 10000 if version else None
    plan = Plan(database="lint", server_version=server_version, selection="files")
    for name, sql in sources.items():
        data = sql.encode("utf-8", "surrogatepass")
        # psql skips a UTF-8 byte-order mark at the start of a file and runs the rest:
        # so does the analysis (PostgreSQL's parser would see a stray character).
        sql = sql.removeprefix("\ufeff")
        migration = _migration(
            name,
            sql,
            data,
            atomic=assume_in_transaction,
            pg_version=server_version,
        )
        plan.migrations.append(migration)
        # Each file is its own migration, deployed on its own: a table is new only in
        # the file that creates it (a directory of migrations is usually history).
        one = Plan(database="lint", server_version=server_version, selection="files")
        one.migrations = [migration]
        plan.findings.extend(
            evaluate(
                one,
                settings=settings,
                scope="sql",
                created_by=_created_by(one, in_transaction=assume_in_transaction),
            )
        )
    return plan


def _created_by(plan: Plan, *, in_transaction: bool = False) -> dict[str, str]:
    """Tables the files create (new: locking rules skip them), marking each statement
    new when every table it touches was created before it (and not rolled back).

    Like facts.attach_facts, but keeps the facts split_and_analyse_each gave (with the
    comments and line numbers of the whole file)."""
    from .analysis.facts import ANY_TASK, created_before_each, created_table, normalize_table

    created: dict[str, str] = {}
    for migration in plan.migrations:
        statements = [s for o in migration.operations for s in o.statements]
        earlier = created_before_each([s.facts for s in statements], in_transaction=in_transaction)
        for statement, before in zip(statements, earlier, strict=True):
            facts = statement.facts
            if facts is None:
                continue
            new = created_table(facts)
            if new:
                created[new] = ANY_TASK
                statement.new_table = True
            else:
                tables = [normalize_table(t) for t in facts.tables]
                statement.new_table = bool(tables) and all(t in before for t in tables)
    return created


def lint_files(
    paths: Iterable[str],
    *,
    assume_in_transaction: bool = False,
    pg_version: int | None = None,
    settings: Mapping[str, Any] | None = None,
    jobs: int | None = None,
) -> Plan:
    """Lint the .sql files under ``paths`` with ``jobs`` processes (see ``_workers``)."""
    sources: dict[str, str] = {}
    for path in collect_files(paths):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise LintError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        try:
            sources[_display(path)] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LintError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    settings = dict(settings) if settings is not None else _settings()
    options = {"assume_in_transaction": assume_in_transaction, "pg_version": pg_version}
    workers = _workers(len(sources), jobs)
    if workers > 1:
        plan = _lint_parallel(sources, workers, options, settings)
        if plan is not None:
            return plan
    return lint_sql(sources, settings=settings, **options)  # type: ignore[arg-type]


# Files are linted independently (each is its own migration), so a large directory can
# be split across processes (--jobs); each process gets at least a quarter of this.
PARALLEL_MIN_FILES = 64


def _workers(files: int, jobs: int | None) -> int:
    """How many processes lint ``files`` files. By default (``jobs`` None) one per CPU
    once there are PARALLEL_MIN_FILES files, 1 below: the start-up of the workers and
    shipping the facts back cost more than they save on small inputs (measured with
    bench/lint_throughput.py). ``jobs`` 0 means one per CPU, N means N."""
    if jobs is None:
        jobs = 0 if files >= PARALLEL_MIN_FILES else 1
    if jobs == 1 or files < 2:
        return 1
    if jobs <= 0:
        try:
            jobs = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            jobs = os.cpu_count() or 1
    return max(1, min(jobs, files // max(1, PARALLEL_MIN_FILES // 4)))


def _lint_chunk(args: tuple[dict[str, str], dict[str, Any], dict[str, Any]]) -> Plan:
    sources, options, settings = args
    return lint_sql(sources, settings=settings, **options)


def _lint_parallel(
    sources: dict[str, str], workers: int, options: dict[str, Any], settings: dict[str, Any]
) -> Plan | None:
    """Lint contiguous slices of the files in forked processes; None if that fails."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    names = list(sources)
    size = -(-len(names) // workers)
    chunks = [
        ({n: sources[n] for n in names[i : i + size]}, options, settings)
        for i in range(0, len(names), size)
    ]
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
            parts = list(pool.map(_lint_chunk, chunks))
    except Exception:  # no fork, no /dev/shm …: lint in this process instead
        return None
    plan = parts[0]
    for part in parts[1:]:
        plan.migrations.extend(part.migrations)
        plan.findings.extend(part.findings)
    return plan


def _settings() -> dict[str, Any]:
    from django.conf import settings as django_settings

    from .conf import DEFAULTS, dbgov_settings

    if not django_settings.configured:
        return dict(DEFAULTS)
    return dict(dbgov_settings.merged)


def render_lint_text(plan: Plan, style: Any) -> str:
    """One block per file, one line per finding with its line number (like a compiler)."""
    out: list[str] = []
    by_file: dict[str, list[Any]] = {}
    for f in plan.findings:
        by_file.setdefault(f.migration or "", []).append(f)
    statements = 0
    for m in plan.migrations:
        statements += sum(len(o.statements) for o in m.operations)
        findings = by_file.get(m.name, [])
        if not findings:
            continue
        out.append(style.MIGRATE_HEADING(m.name))
        for f in findings:
            sev = f.severity.value
            colour = style.ERROR if f.severity.needs_review else style.WARNING
            where = f"{m.name}:{f.line}" if f.line else m.name
            out.append(f"  {where}: {colour(sev)} {style.HTTP_INFO(f.rule_id)}: {f.message}")
            if f.suppressed:
                out.append(f"      suppressed: {f.suppressed}")
            else:
                out.append(f"      instead: {f.safe_alternative}")
    active = [f for f in plan.findings if f.suppressed is None]
    counts: dict[str, int] = {}
    for f in active:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    tail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings"
    suppressed = len(plan.findings) - len(active)
    if out:
        out.append("")
    out.append(
        f"{len(plan.migrations)} file(s), {statements} statement(s): {tail}"
        + (f", {suppressed} suppressed" if suppressed else "")
    )
    out.append(
        style.WARNING(f"{sum(1 for f in plan.findings if f.needs_review)} finding(s) need review.")
        if plan.needs_review
        else style.SUCCESS("Nothing needs review.")
    )
    return "\n".join(out) + "\n"
