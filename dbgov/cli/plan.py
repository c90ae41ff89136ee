"""``manage.py dbgov plan``: what every pending migration will do to the database."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError

from ..analysis.engine import build_plan
from ..analysis.errors import AnalysisError
from ..analysis.model import Plan
from ..analysis.phases import keep_phase
from ..analysis.report import render_text, to_json, to_sarif
from ..analysis.rules import all_rules
from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand
from .errors import task_key
from .progress import StderrProgress


def parse_targets(tokens: list[str]) -> list[tuple[str, str | None]]:
    """``shop auth`` are two apps, ``shop 0003`` is app shop up to migration 0003."""
    labels = {config.label for config in apps.get_app_configs()}
    targets: list[tuple[str, str | None]] = []
    for token in tokens:
        if token in labels:
            targets.append((token, None))
        elif targets and targets[-1][1] is None:
            targets[-1] = (targets[-1][0], token)
        else:
            raise CommandError(f"{token!r} is not an installed app label", returncode=EXIT_ERROR)
    return targets


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["text", "json", "sarif"],
        default="text",
        help="text for people; json (schema dbgov/schemas/plan.schema.json) or sarif 2.1.0 for machines",
    )


def write_plan(cmd: BaseSubcommand, plan: Plan, fmt: str, *, show_sql: bool = True) -> None:
    if fmt == "json":
        cmd.stdout.write(json.dumps(to_json(plan), indent=2))
    elif fmt == "sarif":
        cmd.stdout.write(json.dumps(to_sarif(plan, all_rules()), indent=2))
    else:
        cmd.stdout.write(render_text(plan, cmd.style, show_sql=show_sql), ending="")


class Subcommand(BaseSubcommand):
    help = (
        "Show what pending migrations will do: SQL per operation, locks, rewrites, "
        "reversibility, task and findings. Exit 0: nothing needs review; 1: something "
        "does; 2: error."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "targets",
            nargs="*",
            metavar="app_label [migration_name]",
            help="limit to these apps, or plan up to app_label migration_name (like migrate)",
        )
        parser.add_argument(
            "--database", default="default", help="database alias (default: default)"
        )
        parser.add_argument(
            "--all", action="store_true", help="the whole history, not only pending migrations"
        )
        parser.add_argument(
            "--task", type=task_key, help="only the pending migrations of this task (T-NNN)"
        )
        parser.add_argument(
            "--since",
            metavar="REF",
            help="plan the migrations added or changed since this git ref (e.g. origin/main); "
            "everything else counts as applied (for CI on an empty database)",
        )
        parser.add_argument(
            "--no-cache",
            action="store_true",
            help="render every migration again instead of reusing the render cache",
        )
        parser.add_argument(
            "--phase",
            choices=["pre", "post"],
            help="only what `migrate --phase pre` applies before the deploy (up to the first "
            "post-deploy migration), or what `--phase post` applies after it",
        )
        parser.add_argument("--no-sql", action="store_true", help="text format: hide the SQL")
        parser.add_argument(
            "--no-save", action="store_true", help="do not store the plan for review"
        )
        parser.add_argument(
            "--requester",
            metavar="USER",
            help="who asks for the review (never approves it); default: the user whose "
            "email is git's user.email, or whose name is your login",
        )
        add_output_arguments(parser)

    def handle(self, **options: Any) -> int:
        targets = parse_targets(options["targets"])
        chosen = [o for o in ("all", "since") if options[o]] + (["targets"] if targets else [])
        if len(chosen) > 1:
            raise CommandError(
                f"{' and '.join('--' + c if c != 'targets' else c for c in chosen)} "
                "cannot be combined",
                returncode=EXIT_ERROR,
            )
        selection = chosen[0] if chosen else "pending"
        if options["task"] and not _task_has_migrations(options["task"]):
            raise CommandError(
                f"no migration file names task {options['task']} "
                f"(class attribute dbgov_task = {options['task']!r})",
                returncode=EXIT_ERROR,
            )
        quiet = options["format"] != "text" or options.get("verbosity", 1) < 1

        progress = StderrProgress(self, quiet=quiet)

        try:
            plan = build_plan(
                database=options["database"],
                selection=selection,
                targets=targets,
                task=options["task"],
                since=options["since"],
                progress=progress,
                use_cache=not options["no_cache"],
            )
        except AnalysisError as exc:
            if options.get("traceback"):
                raise
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        finally:
            progress.close()
        if options.get("phase"):
            plan = keep_phase(plan, options["phase"])
        governance = _governance()
        if governance is None and not options["no_save"]:
            progress("dbgov's tables are not migrated: the plan is not stored for review")
        accepted = None
        if governance is not None:
            # "never modify applied migrations": changed or missing applied files
            plan.findings.extend(governance.integrity_findings(options["database"], plan))
            accepted = _apply_baseline(plan)
        stored = None
        if governance is not None and not options["no_save"]:
            stored = governance.save_plan(plan, author=_requester(options.get("requester")))
        write_plan(self, plan, options["format"], show_sql=not options["no_sql"])
        if governance is not None and options["format"] == "text":
            write_review(self, plan, governance, stored)
            if accepted is not None and accepted[1]:
                self.stdout.write(
                    f"Baseline: {accepted[0]} finding(s) of this plan accepted by the baseline "
                    f"and not shown ({accepted[1]} in the baseline; dbgov baseline --status)."
                )
        broken = _integrity_violations(self, options["format"]) if governance else False
        return EXIT_NEEDS_REVIEW if plan.needs_review or broken else EXIT_OK


def _integrity_violations(cmd: BaseSubcommand, fmt: str) -> bool:
    """The signed chains, verified as ``check`` does (on stderr for machine formats)."""
    from ..governance.integrity import check

    violations, _ = check()
    for v in violations:
        line = f"integrity-violation: {v.message}"
        if fmt == "text":
            cmd.stdout.write(cmd.style.ERROR(line))
        else:
            cmd.stderr.write(line)
    return bool(violations)


def _requester(username: str | None) -> Any:
    """The plan's requester: excluded from deciding on the requests it opens."""
    from django.contrib.auth import get_user_model

    from ..governance.authors import current_user

    if not username:
        return current_user()
    User = get_user_model()
    try:
        return User._default_manager.get_by_natural_key(username)
    except User.DoesNotExist:
        raise CommandError(f"unknown user {username!r}", returncode=EXIT_ERROR) from None


def _apply_baseline(plan: Plan) -> tuple[int, int]:
    """Drop the findings the baseline accepted: (dropped, size of the baseline)."""
    from ..governance.baseline import apply_baseline, baseline_size

    return apply_baseline(plan), baseline_size()


def _task_has_migrations(key: str) -> bool:
    """Whether any migration on disk names ``key`` (applied or not; no database read)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return any(getattr(m, "dbgov_task", None) == key for m in loader.disk_migrations.values())


def _governance() -> Any:
    """dbgov.governance.services when the governance layer and its tables are installed."""
    try:
        from ..governance import services
    except ImportError:
        return None
    return services if services.installed() else None


def write_review(cmd: BaseSubcommand, plan: Plan, governance: Any, stored: Any) -> None:
    """The approval state of each finding that needs review."""
    review = [f for f in plan.findings if f.needs_review]
    if not review:
        return
    states = governance.review_state(review, plan=plan)
    fingerprints = governance.fingerprints(review, plan=plan)
    where = f" (stored as plan #{stored.pk})" if stored is not None else ""
    cmd.stdout.write(cmd.style.MIGRATE_HEADING(f"Review{where}:"))
    for f, fp in zip(review, fingerprints, strict=True):
        st = states[fp]
        op = "" if f.operation_index is None else f" #{f.operation_index}"
        decided = st.decided or f"{len(st.approvals)}/{st.needed} approvals"
        line = f"  {f.migration_label or '-'}{op} {f.rule_id}: {decided}  [{fp[:12]}]"
        if st.stale:
            line += cmd.style.WARNING(f"  {len(st.stale)} stale (file changed since)")
        if f.rule_id.startswith("applied-migration-"):
            line += f"\n      {f.message}"
        cmd.stdout.write(line)
