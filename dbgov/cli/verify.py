"""``manage.py dbgov verify``: recompute the signed chains of approvals, audit events
and the ledger; name every forged, edited, deleted or reordered row."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import DatabaseError

from . import EXIT_ERROR, BaseSubcommand


def read_witness(path: str) -> dict[str, Any]:
    """A witness file written by ``--export-witness`` (exit 2 with a clear message)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(
            f"{path}: cannot read the witness: {exc.strerror}", returncode=EXIT_ERROR
        ) from None
    except ValueError as exc:
        raise CommandError(
            f"{path}: not a witness file (invalid JSON: {exc})", returncode=EXIT_ERROR
        ) from None
    heads = doc.get("heads") if isinstance(doc, dict) else None
    if not isinstance(heads, dict):
        raise CommandError(f'{path}: not a witness file (no "heads")', returncode=EXIT_ERROR)
    return heads


class Subcommand(BaseSubcommand):
    help = (
        "Verify the signatures and hash chains of approvals, audit events and the "
        "ledger. Exit 0: intact (or every violation acknowledged); 1: integrity-violation; "
        "2: error."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--witness",
            metavar="FILE",
            help="also require the chain heads this file saw (detects a rewrite of a whole "
            "chain and its head, or a restored older database)",
        )
        parser.add_argument(
            "--export-witness",
            metavar="FILE",
            help="write the current chain heads to FILE (keep it outside the database)",
        )
        parser.add_argument(
            "--acknowledge",
            metavar="REASON",
            help="record the current violations as a known incident (audited); later "
            "runs list them as acknowledged and pass",
        )

    def handle(self, **options: Any) -> int:
        from ..governance import integrity, services

        if not services.installed("default"):
            raise CommandError(
                "dbgov's tables are not migrated on 'default': nothing to verify "
                "(run manage.py migrate dbgov)",
                returncode=EXIT_ERROR,
            )
        witnessed = read_witness(options["witness"]) if options["witness"] else None
        try:
            violations, acknowledged = integrity.check(witness=witnessed)
            if options["acknowledge"] is not None:
                reason = options["acknowledge"].strip()
                if not reason:
                    raise CommandError("--acknowledge needs a reason", returncode=EXIT_ERROR)
                if violations:
                    integrity.acknowledge(violations, reason=reason)
                    acknowledged, violations = acknowledged + violations, []
            if options["export_witness"]:
                doc = {"heads": integrity.witness()}
                try:
                    Path(options["export_witness"]).write_text(
                        json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8"
                    )
                except OSError as exc:
                    raise CommandError(
                        f"{options['export_witness']}: cannot write the witness: {exc.strerror}",
                        returncode=EXIT_ERROR,
                    ) from None
        except DatabaseError as exc:
            raise CommandError(f"database: {str(exc).strip()}", returncode=EXIT_ERROR) from exc
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "ok": not violations,
                        "violations": [v.as_dict() for v in violations],
                        "acknowledged": [v.as_dict() for v in acknowledged],
                    },
                    indent=2,
                )
            )
        else:
            write_violations(self, violations, acknowledged)
            if not violations:
                tables = ", ".join(m._meta.db_table for m in integrity.CHAINED_MODELS)
                self.stdout.write(self.style.SUCCESS(f"dbgov verify: OK: {tables} intact."))
        return 1 if violations else 0


def write_violations(cmd: BaseSubcommand, violations: list[Any], acknowledged: list[Any]) -> None:
    for v in violations:
        cmd.stdout.write(cmd.style.ERROR(f"integrity-violation: {v.message}"))
    for v in acknowledged:
        cmd.stdout.write(cmd.style.WARNING(f"acknowledged integrity-violation: {v.message}"))
