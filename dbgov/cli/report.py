"""``manage.py dbgov report --task T-021``: the task's completion report (hand-over)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from . import EXIT_ERROR, EXIT_NEEDS_REVIEW, EXIT_OK, BaseSubcommand
from .errors import task_key


class Subcommand(BaseSubcommand):
    help = (
        "Print a task's completion report: migration files, schema and rollback SQL, the "
        "last rehearsal's EXPLAIN verdicts, the decisions and what is still open. "
        "Exit 1 while something is open."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--task", type=task_key, metavar="T-NNN", required=True)
        parser.add_argument("--format", choices=["text", "markdown", "json"], default="text")

    def handle(self, **options: Any) -> int:
        from dbgov.governance.handover import (
            build_handover,
            render_json,
            render_markdown,
            render_text,
        )
        from dbgov.models import Task

        key = options["task"]
        task = Task.objects.select_related("owner").filter(key=key).first()
        if task is None:
            raise CommandError(f"No task {key}.", returncode=EXIT_ERROR)
        handover = build_handover(task)
        render = {"json": render_json, "markdown": render_markdown}.get(
            options["format"], render_text
        )
        self.stdout.write(render(handover))
        return EXIT_OK if handover.done else EXIT_NEEDS_REVIEW
