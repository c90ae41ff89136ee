"""The bad / good examples every SQL rule carries beside its code (``Rule.bad``,
``Rule.good``), linted as `dbgov lint` lints a file.

A first line ``-- lint: --assume-in-transaction --pg-version 17`` sets the options the
example needs (as the command line would).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbgov.analysis.model import Plan
from dbgov.analysis.rules import Rule, all_rules
from dbgov.conf import DEFAULTS
from dbgov.lint import lint_sql

ALL_ON = {**DEFAULTS, "ENABLED_RULES": [r.id for r in all_rules() if r.opt_in]}
SQL_RULES = [r for r in all_rules() if r.scope == "sql"]


@dataclass(frozen=True)
class LintOptions:
    assume_in_transaction: bool = False
    pg_version: int | None = None


def options(example: str) -> LintOptions:
    first = example.splitlines()[0] if example else ""
    if not first.startswith("-- lint:"):
        return LintOptions()
    flags = first.removeprefix("-- lint:").split()
    pg = int(flags[flags.index("--pg-version") + 1]) if "--pg-version" in flags else None
    return LintOptions("--assume-in-transaction" in flags, pg)


def lint_example(rule: type[Rule], which: str, settings: dict[str, Any] | None = None) -> Plan:
    """Lint ``rule.bad`` or ``rule.good`` (``which``) as a file named after the rule."""
    text = getattr(rule, which)
    opts = options(text)
    return lint_sql(
        {f"{rule.id}.{which}.sql": text},
        assume_in_transaction=opts.assume_in_transaction,
        pg_version=opts.pg_version,
        settings=settings if settings is not None else ALL_ON,
    )


def write_examples(folder: Path, which: str = "bad") -> list[Path]:
    """Every SQL rule's example written to ``folder/<id>.<which>.sql`` (sorted)."""
    paths = []
    for rule in SQL_RULES:
        path = folder / f"{rule.id}.{which}.sql"
        path.write_text(getattr(rule, which))
        paths.append(path)
    return sorted(paths)
