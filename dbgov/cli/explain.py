"""``manage.py dbgov explain``: rehearse a task on a staging copy, or show a run's report.

dbgov explain --task T-021 [--wait] [--format text|markdown|json]
dbgov explain --show RUN [--format text|markdown|json]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError

from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand
from .errors import task_key


class Subcommand(BaseSubcommand):
    help = (
        "Rehearse a task's pending migrations on a disposable copy of staging in a Celery "
        "worker and EXPLAIN ANALYZE its query patterns before and after."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--task", type=task_key, metavar="T-NNN", help="The task to rehearse.")
        parser.add_argument(
            "--database",
            metavar="ALIAS",
            help="Staging alias to copy (only DBGOV['STAGING_DATABASE'] is accepted).",
        )
        parser.add_argument(
            "--wait", action="store_true", help="Follow the run until it ends (progress on stderr)."
        )
        parser.add_argument(
            "--timeout", type=float, default=900.0, help="Seconds --wait waits (default 900)."
        )
        parser.add_argument(
            "--show",
            type=int,
            metavar="RUN",
            help="Print the report of rehearsal run RUN (plan trees included) and exit.",
        )
        parser.add_argument(
            "--format",
            choices=["text", "markdown", "json"],
            default="text",
            help="markdown: for a pull-request comment.",
        )
        parser.add_argument(
            "--reap",
            action="store_true",
            help="Drop orphaned staging copies and fail runs whose worker died, then exit.",
        )

    def handle(self, **options: Any) -> int:
        from dbgov.conf import dbgov_settings
        from dbgov.explain.copy import CopyError, ensure_staging
        from dbgov.explain.readiness import RehearsalNotConfigured, require_rehearsal

        if options.get("task"):
            try:
                require_rehearsal()
            except RehearsalNotConfigured as exc:
                raise CommandError(f"cannot rehearse: {exc}", returncode=EXIT_ERROR) from exc
        try:
            alias = ensure_staging(options.get("database") or dbgov_settings.STAGING_DATABASE)
        except CopyError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        if options["reap"]:
            return self._reap(options["format"])
        if options.get("show") is not None:
            return self._show(options["show"], options["format"])
        key = options.get("task")
        if not key:
            raise CommandError("Give --task T-NNN (or --reap).", returncode=EXIT_ERROR)
        return self._explain(key, alias, options)

    def _show(self, run_id: int, fmt: str) -> int:
        from dbgov.models import ExplainRun

        run = ExplainRun.objects.select_related("task").filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"No rehearsal run {run_id}.", returncode=EXIT_ERROR)
        return self._report(run, fmt)

    def _reap(self, fmt: str) -> int:
        from dbgov.explain.copy import CopyError
        from dbgov.explain.runs import reap

        try:
            report = reap()
        except CopyError as exc:
            raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
        if fmt == "json":
            self.stdout.write(
                json.dumps({"dropped": report.dropped, "failed_runs": report.failed_runs})
            )
        else:
            self.stdout.write(
                f"Dropped {len(report.dropped)} orphaned cop{'y' if len(report.dropped) == 1 else 'ies'}"
                f"{': ' + ', '.join(report.dropped) if report.dropped else ''}; "
                f"{len(report.failed_runs)} run(s) marked failed."
            )
        return EXIT_OK

    def _explain(self, key: str, alias: str, options: dict[str, Any]) -> int:
        from dbgov.explain.runs import BrokerUnavailable, enqueue_rehearsal, task_migration_files
        from dbgov.models import Task

        files = task_migration_files(key)
        if not files:
            raise CommandError(
                f"No migration file names task {key} (class attribute dbgov_task = {key!r}).",
                returncode=EXIT_ERROR,
            )
        task = Task.objects.filter(key=key).first()
        created = task is None
        if task is None:
            task = Task.objects.create(key=key, title=f"{key} (from {', '.join(files)})")
        try:
            run = enqueue_rehearsal(task, requested_by="dbgov explain", alias=alias)
        except Exception as exc:
            if created:  # nothing half-written: the task was made for this run only
                task.delete()
            if isinstance(exc, BrokerUnavailable):
                raise CommandError(str(exc), returncode=EXIT_ERROR) from exc
            raise
        if created:
            self.stderr.write(f"Created task {key}: its migrations are {', '.join(files)}.")
        if not options["wait"]:
            if options["format"] == "json":
                self.stdout.write(json.dumps({"run": run.pk, "task": key, "status": run.status}))
            else:
                self.stdout.write(
                    f"Queued rehearsal run {run.pk} of {key} on a copy of {alias!r}. "
                    f"Follow it with the admin or --wait."
                )
            return EXIT_OK
        return self._follow(run.pk, options)

    def _follow(self, run_id: int, options: dict[str, Any]) -> int:
        from dbgov.explain.runs import wait_for
        from dbgov.models import ExplainRun

        run = None
        for run in wait_for(run_id, timeout_s=options["timeout"]):
            self.stderr.write(f"run {run.pk}: {run.status} — {run.step}")
        assert run is not None
        run = ExplainRun.objects.select_related("task").get(pk=run_id)
        if not run.is_terminal:
            raise CommandError(
                f"Run {run.pk} is still {run.status} ({run.step}) after {options['timeout']:.0f} s; "
                f"is a worker consuming the rehearsal queue?",
                returncode=EXIT_ERROR,
            )
        return self._report(run, options["format"])

    def _report(self, run: Any, fmt: str) -> int:
        from dbgov.explain.report import build_report, render_json, render_markdown, render_text

        report = build_report(run)
        if run.status == run.Status.FAILED:
            code = EXIT_ERROR
        elif not run.is_terminal:
            code = EXIT_OK
        elif run.needs_human or report.warnings:
            code = EXIT_NEEDS_REVIEW
        else:
            code = EXIT_OK
        if fmt == "json":
            self.stdout.write(render_json(report))
        elif fmt == "markdown":
            self.stdout.write(render_markdown(report))
        else:
            text = render_text(report)
            head, _, rest = text.partition("\n")
            ok = run.status == run.Status.SUCCEEDED
            self.stdout.write(self.style.SUCCESS(head) if ok else self.style.ERROR(head))
            if rest:
                self.stdout.write(rest)
        return code
