"""``manage.py dbgov rules``: the rule catalogue (also ``python -m dbgov rules``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..analysis.rules import active_rules, all_rules
from . import EXIT_OK, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "List the rule catalogue: id, severity, category, what it catches and the safe alternative."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--category", help="only this category (locks, breaking, data, …)")
        parser.add_argument(
            "--sql-only", action="store_true", help="only the rules `dbgov lint` runs"
        )

    def handle(self, **options: Any) -> int:
        try:
            active = {r.id for r in active_rules()}
        except Exception:  # no Django settings (python -m dbgov rules): the defaults
            active = {r.id for r in all_rules() if not r.opt_in}
        rules = [
            r
            for r in all_rules()
            if (not options["category"] or r.category == options["category"])
            and (not options["sql_only"] or r.scope == "sql")
        ]
        if options["format"] == "json":
            payload = [{**r.describe(), "active": r.id in active} for r in rules]
            self.stdout.write(json.dumps({"version": 1, "rules": payload}, indent=2))
            return EXIT_OK
        category = None
        for r in rules:
            if r.category != category:
                category = r.category
                self.stdout.write("")
                self.stdout.write(self.style.MIGRATE_HEADING(category))
            flags = [] if r.id in active else ["off" if not r.opt_in else "opt-in"]
            if r.scope == "sql":
                flags.append("lint")
            tag = f"  ({', '.join(flags)})" if flags else ""
            self.stdout.write(f"  {self.style.HTTP_INFO(r.id)}  [{r.severity.value}]{tag}")
            self.stdout.write(f"      {r.summary}")
        self.stdout.write("")
        self.stdout.write(f"{len(rules)} rule(s). Details and safe alternatives: docs/rules.md")
        return EXIT_OK
