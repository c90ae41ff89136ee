"""``manage.py dbgov check``: the gate CI and deploys run before ``migrate``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError
from django.db import DatabaseError

from ..analysis.errors import AnalysisError
from . import EXIT_ERROR, BaseSubcommand
from .verify import read_witness, write_violations


class Subcommand(BaseSubcommand):
    help = (
        "Gate: exit 1 when a pending migration has a finding that lacks the approvals "
        "it needs, an applied migration changed on disk / is missing, a signed chain "
        "is broken (integrity-violation), or the models have changes no migration "
        "captures; 0 when all is approved; 2 on error."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--witness", metavar="FILE", help="as for dbgov verify")

    def handle(self, **options: Any) -> int:
        from ..analysis.missing_migrations import missing_migrations
        from ..governance.gate import run_gate

        database = options["database"]
        witnessed = read_witness(options["witness"]) if options["witness"] else None
        try:
            run = run_gate(database, witness=witnessed)
            missing = missing_migrations()
        except AnalysisError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        except DatabaseError as exc:
            raise CommandError(
                f"database {database!r}: {str(exc).strip()} (are dbgov's tables migrated?)",
                returncode=EXIT_ERROR,
            ) from exc
        if not run.installed:
            raise CommandError(
                "dbgov's tables are not migrated on 'default': approvals live there "
                "(run manage.py migrate dbgov)",
                returncode=EXIT_ERROR,
            )
        exit_code = 1 if missing else run.exit_code
        if options["format"] == "json":
            doc = {**run.as_dict(), "missing_migrations": [m.as_dict() for m in missing]}
            doc["ok"] = exit_code == 0
            self.stdout.write(json.dumps(doc, indent=2))
            return exit_code
        result = run.result
        if run.baseline_total:
            self.stdout.write(
                f"Baseline: {run.baseline_total} accepted finding(s) of the applied history"
                + (
                    f", {run.baseline_accepted} of them in this check"
                    if run.baseline_accepted
                    else ""
                )
                + "; only new findings are gated."
            )
        for m in missing:
            self.stdout.write(self.style.ERROR(f"dbgov check: {m.message}"))
        write_violations(self, run.violations, run.acknowledged)
        if run.ok and missing:
            return 1
        if run.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"dbgov check: OK: {len(run.pending)} pending migration(s), "
                    f"{result.checked} finding(s) needing review, all approved."
                )
            )
            return 0
        if result.blocked:
            self.stdout.write(
                self.style.ERROR(
                    f"dbgov check: {len(result.blocked)} finding(s) lack the approvals they need:"
                )
            )
        for b in result.blocked:
            f, st = b.finding, b.state
            where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or "")
            op = "" if f.operation_index is None else f" #{f.operation_index}"
            decided = st.decided or f"{len(st.approvals)}/{st.needed} approvals"
            self.stdout.write(
                f"  {f.migration_label or '-'}{op} {f.rule_id} ({f.severity}): {decided}"
                f"  [{st.fingerprint[:12]}]"
            )
            self.stdout.write(f"      {where}  {f.message}")
            if st.task_without_owner:
                self.stdout.write(
                    self.style.WARNING(
                        f"      task {st.task_without_owner} is unknown or has no owner: "
                        "no approval counts until it has one"
                    )
                )
            for a in st.discounted:
                self.stdout.write(
                    self.style.WARNING(
                        f"      approval by {a.reviewer} does not count: {a.discounted}"
                    )
                )
            if st.stale:
                who = ", ".join(sorted({a.reviewer for a in st.stale}))
                self.stdout.write(
                    self.style.WARNING(
                        f"      {len(st.stale)} stale approval(s) by {who}: the file changed since"
                    )
                )
            if st.rejections:
                for r in st.rejections:
                    self.stdout.write(f"      rejected by {r.reviewer}: {r.reason}")
        if run.violations:
            self.stdout.write(
                self.style.ERROR(
                    f"dbgov check: {len(run.violations)} integrity violation(s): run "
                    "manage.py dbgov verify"
                )
            )
        return run.exit_code
