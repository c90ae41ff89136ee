"""``manage.py dbgov check``: the gate CI and deploys run before ``migrate``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError
from django.db import DatabaseError

from ..analysis.errors import AnalysisError
from . import EXIT_ERROR, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "Gate: exit 1 when a pending migration has a finding that lacks the approvals "
        "it needs, or an applied migration changed on disk / is missing; 0 when all is "
        "approved; 2 on error."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, **options: Any) -> int:
        from ..analysis.engine import build_plan
        from ..analysis.missing_migrations import missing_migrations
        from ..governance.baseline import apply_baseline, baseline_size
        from ..governance.services import gate, integrity_findings

        database = options["database"]
        try:
            plan = build_plan(database=database, selection="pending")
            accepted = apply_baseline(plan)
            in_baseline = baseline_size()
            integrity = integrity_findings(database)
            result = gate(plan, extra_findings=integrity)
            missing = missing_migrations()
        except AnalysisError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        except DatabaseError as exc:
            raise CommandError(
                f"database {database!r}: {str(exc).strip()} (are dbgov's tables migrated?)",
                returncode=EXIT_ERROR,
            ) from exc
        if options["format"] == "json":
            doc = {
                "database": database,
                "pending": [m.label for m in plan.selected if not m.applied],
                "baseline": {"accepted": accepted, "total": in_baseline},
                "missing_migrations": [m.as_dict() for m in missing],
                **result.as_dict(),
            }
            if missing:
                doc["ok"] = False
            self.stdout.write(json.dumps(doc, indent=2))
            return 1 if missing else result.exit_code
        pending = [m.label for m in plan.selected if not m.applied]
        if in_baseline:
            self.stdout.write(
                f"Baseline: {in_baseline} accepted finding(s) of the applied history"
                + (f", {accepted} of them in this check" if accepted else "")
                + "; only new findings are gated."
            )
        for m in missing:
            self.stdout.write(self.style.ERROR(f"dbgov check: {m.message}"))
        if result.ok and missing:
            return 1
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"dbgov check: OK: {len(pending)} pending migration(s), "
                    f"{result.checked} finding(s) needing review, all approved."
                )
            )
            return 0
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
        return result.exit_code
