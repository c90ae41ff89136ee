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
        parser.add_argument(
            "--sql",
            action="store_true",
            help="print the GRANTs of the three database roles (application, migrator, "
            "reviewers' admin) instead; see docs/security.md",
        )
        parser.add_argument("--app-role", default="dbgov_app", metavar="ROLE")
        parser.add_argument("--migrator-role", default="dbgov_migrator", metavar="ROLE")
        parser.add_argument("--reviewer-role", default="dbgov_reviewer", metavar="ROLE")

    def handle(self, **options: Any) -> int:
        if options["sql"]:
            from ..governance.grants import RoleNames, grants_sql

            names = RoleNames(
                app=options["app_role"],
                migrator=options["migrator_role"],
                reviewer=options["reviewer_role"],
            )
            if len({names.app, names.migrator, names.reviewer}) != 3:
                raise CommandError("the three roles need three names", returncode=EXIT_ERROR)
            self.stdout.write(grants_sql(names, options["database"]), ending="")
            return 0
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
