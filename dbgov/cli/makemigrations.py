"""``manage.py dbgov makemigrations --task T-021 [app …]``: Django's makemigrations,
writing migrations that name their task (``dbgov_task = "T-021"``)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import makemigrations

from ..models.tasks import TASK_KEY_PATTERN
from . import EXIT_ERROR, BaseSubcommand

CLASS_LINE = re.compile(r"^class Migration\(migrations\.Migration\):\n", re.MULTILINE)


def add_task_attribute(path: str | Path, task: str) -> None:
    """Write ``dbgov_task = "T-NNN"`` as the first attribute of the Migration class."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if "dbgov_task =" in text:
        return
    new, count = CLASS_LINE.subn(
        lambda m: f'{m.group(0)}    dbgov_task = "{task}"\n\n', text, count=1
    )
    if not count:
        raise CommandError(f"{path}: no Migration class to mark with {task}", returncode=EXIT_ERROR)
    path.write_text(new, encoding="utf-8")


class TaskMakemigrations(makemigrations.Command):
    """Django's makemigrations; each file it writes carries the task key."""

    task: str = ""
    author: Any = None
    written_files: list[str]

    def write_migration_files(
        self, changes: Any, update_previous_migration_paths: Any = None
    ) -> None:
        from ..governance.authors import record_makemigrations_author

        before = len(self.written_files)
        super().write_migration_files(changes, update_previous_migration_paths)
        for path in self.written_files[before:]:
            add_task_attribute(path, self.task)
        if self.dry_run:
            return
        # Four eyes: whoever wrote the migration never approves it (audited).
        for app_label, migrations in changes.items():
            for migration in migrations:
                record_makemigrations_author(app_label, migration.name, user=self.author)


class Subcommand(BaseSubcommand):
    help = "Run Django's makemigrations; the migrations it writes name --task T-NNN."
    requires_system_checks = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("app_labels", nargs="*", metavar="app_label")
        parser.add_argument("--task", required=True, help="the task key, e.g. T-021")
        parser.add_argument("-n", "--name", help="use this name for the migration file")
        parser.add_argument("--empty", action="store_true", help="an empty migration")
        parser.add_argument("--dry-run", action="store_true", help="show, write nothing")
        parser.add_argument("--check", action="store_true", help="exit 1 if changes are missing")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")
        parser.add_argument(
            "--as",
            dest="username",
            help="the author (default: your login name and git's user.email, matched to users)",
        )

    def handle(self, **options: Any) -> int:
        from ..models import Task

        key = options["task"]
        if not re.match(TASK_KEY_PATTERN, key):
            raise CommandError(
                f"{key!r} is not a task key (T- followed by digits, e.g. T-021)",
                returncode=EXIT_ERROR,
            )
        if not Task.objects.filter(key=key).exists():
            raise CommandError(
                f'unknown task {key}; create it first: manage.py dbgov tasks create {key} "title"',
                returncode=EXIT_ERROR,
            )
        cmd = TaskMakemigrations(stdout=self.stdout._out, stderr=self.stderr._out)  # type: ignore[arg-type]
        cmd.task = key
        if options.get("username"):
            from django.contrib.auth import get_user_model

            User = get_user_model()
            try:
                cmd.author = User._default_manager.get_by_natural_key(options["username"])
            except User.DoesNotExist:
                raise CommandError(
                    f"unknown user {options['username']!r}", returncode=EXIT_ERROR
                ) from None
        cmd.style = self.style
        cmd.execute(
            *options["app_labels"],
            name=options["name"],
            empty=options["empty"],
            dry_run=options["dry_run"],
            check_changes=options["check"],
            interactive=options.get("interactive", True),
            merge=False,
            include_header=True,
            scriptable=False,
            update=False,
            verbosity=options.get("verbosity", 1),
            no_color=options.get("no_color", False),
            force_color=options.get("force_color", False),
            skip_checks=True,
        )
        return 0
