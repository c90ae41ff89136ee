"""``manage.py dbgov roles``: create the DBA and developer groups (and add users)."""

from __future__ import annotations

import argparse
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from . import EXIT_ERROR, BaseSubcommand


class Subcommand(BaseSubcommand):
    help = (
        "Create or complete the DBA group (decide, rehearse, view everything) and the "
        "developer group (view their own tasks); --add USER to DBA, --developer USER."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--add", nargs="+", default=[], metavar="USER", help="add users to the DBA group"
        )
        parser.add_argument(
            "--developer",
            nargs="+",
            default=[],
            metavar="USER",
            help="add users to the developer group",
        )
        parser.add_argument("--database", default="default")

    def handle(self, **options: Any) -> int:
        from ..governance.roles import ensure_dba_group, ensure_developer_group
        from ..governance.services import audit

        dba = ensure_dba_group(options["database"])
        developers = ensure_developer_group(options["database"])
        User = get_user_model()
        for group, names in ((dba, options["add"]), (developers, options["developer"])):
            for name in names:
                try:
                    user = User._default_manager.get_by_natural_key(name)
                except User.DoesNotExist:
                    raise CommandError(f"unknown user {name!r}", returncode=EXIT_ERROR) from None
                user.groups.add(group)
                audit("role.granted", subject=name, data={"group": group.name})
        for group in (dba, developers):
            self.stdout.write(
                self.style.SUCCESS(
                    f"Group {group.name!r}: {group.permissions.count()} permissions, "
                    f"{group.user_set.count()} members."
                )
            )
        return 0
