"""``manage.py dbgov tasks``: list tasks, or create one (``tasks create T-050 "title"``)."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Count, Q

from . import EXIT_ERROR, BaseSubcommand


def task_rows() -> list[dict[str, Any]]:
    """Tasks with their migrations (latest stored plan), status and open findings."""
    from ..models import ApprovalRequest, PlanMigration, Task

    open_states = [ApprovalRequest.Status.OPEN, ApprovalRequest.Status.REJECTED]
    tasks = (
        Task.objects.select_related("owner")
        .order_by("key")
        .annotate(
            open_findings=Count(
                "approval_requests", filter=Q(approval_requests__status__in=open_states)
            )
        )
    )
    migrations: dict[str, list[str]] = defaultdict(list)
    for key, app, name in (
        PlanMigration.objects.exclude(task_key="")
        .order_by("app_label", "name", "-plan_id")
        .distinct("app_label", "name")
        .values_list("task_key", "app_label", "name")
    ):
        migrations[key].append(f"{app}.{name}")
    return [
        {
            "key": t.key,
            "title": t.title,
            "status": t.status,
            "owner": t.owner.get_username() if t.owner else None,
            "migrations": sorted(migrations.get(t.key, [])),
            "open_findings": t.open_findings,
        }
        for t in tasks
    ]


class Subcommand(BaseSubcommand):
    help = 'List tasks (key, status, migrations, open findings) or create one: tasks create T-050 "title".'

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", nargs="?", choices=["list", "create"], default="list")
        parser.add_argument("key", nargs="?", help="create: the task key, T- and digits")
        parser.add_argument("title", nargs="?", help="create: the task title")
        parser.add_argument("--owner", help="create: username of the task's owner")
        parser.add_argument("--criteria", default="", help="create: acceptance criteria")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, **options: Any) -> int:
        if options["action"] == "create":
            return self.create(**options)
        rows = task_rows()
        if options["format"] == "json":
            self.stdout.write(json.dumps({"tasks": rows}, indent=2))
            return 0
        if not rows:
            self.stdout.write('No tasks. Create one: manage.py dbgov tasks create T-001 "title"')
        for r in rows:
            self.stdout.write(
                f"{r['key']:<8} {r['status']:<10} {r['open_findings']:>3} open  {r['title']}"
                + (f"  (owner {r['owner']})" if r["owner"] else "")
            )
            for label in r["migrations"]:
                self.stdout.write(f"           {label}")
        return 0

    def create(self, **options: Any) -> int:
        from ..governance.services import audit
        from ..models import Task

        key, title = options["key"], options["title"]
        if not key or not title:
            raise CommandError('usage: dbgov tasks create T-050 "title"', returncode=EXIT_ERROR)
        owner = None
        if options["owner"]:
            User = get_user_model()
            try:
                owner = User._default_manager.get_by_natural_key(options["owner"])
            except User.DoesNotExist:
                raise CommandError(
                    f"unknown user {options['owner']!r}", returncode=EXIT_ERROR
                ) from None
        task = Task(key=key, title=title, owner=owner, acceptance_criteria=options["criteria"])
        try:
            task.full_clean()
        except ValidationError as exc:
            msgs = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(f"task {key}: {msgs}", returncode=EXIT_ERROR) from None
        task.save()
        audit("task.created", subject=key, data={"title": title})
        if options["format"] == "json":
            self.stdout.write(json.dumps({"created": key}))
        else:
            self.stdout.write(self.style.SUCCESS(f"Created {task}"))
        return 0
