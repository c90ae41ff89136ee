"""``manage.py dbgov approve``: record a decision from the command line (as a named DBA).

The admin's approval queue is the usual place; this is for scripts and demos. The
same permission, four-eyes and reason checks apply, and ``--as USER`` must prove it:
USER's password, asked for on a terminal or read from ``DBGOV_APPROVER_PASSWORD``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from . import EXIT_ERROR, BaseSubcommand
from .errors import task_key


class Subcommand(BaseSubcommand):
    help = "Approve findings by fingerprint (prefix) or all open ones of --task, as --as USER."
    decision = "approved"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("fingerprints", nargs="*", help="fingerprints or their prefixes")
        parser.add_argument("--task", type=task_key, help="every open request of this task")
        parser.add_argument("--as", dest="username", required=True, help="the reviewer")
        parser.add_argument("--reason", required=True, help="why (required)")

    def handle(self, **options: Any) -> int:
        from ..governance.services import GovernanceError, decide
        from ..models import ApprovalRequest

        user = authenticated(options["username"])
        targets: list[Any] = list(options["fingerprints"])
        if options["task"]:
            targets += list(
                ApprovalRequest.objects.filter(
                    task__key=options["task"], status=ApprovalRequest.Status.OPEN
                ).order_by("-severity_rank", "created_at")
            )
        if not targets:
            raise CommandError(
                "nothing to decide: give fingerprints or --task", returncode=EXIT_ERROR
            )
        for target in targets:
            try:
                approval = decide(
                    target, user=user, decision=self.decision, reason=options["reason"]
                )
            except (GovernanceError, PermissionDenied) as exc:
                raise CommandError(str(exc), returncode=EXIT_ERROR) from None
            self.stdout.write(f"{self.decision} {approval.request} by {user.get_username()}")
        return 0


PASSWORD_ENV = "DBGOV_APPROVER_PASSWORD"


def authenticated(username: str) -> Any:
    """The user ``--as`` names, once their password proves it (exit 2 otherwise)."""
    User = get_user_model()
    if not User._default_manager.filter(**{User.USERNAME_FIELD: username}).exists():
        raise CommandError(f"unknown user {username!r}", returncode=EXIT_ERROR)
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError(
                f"--as {username}: give {username}'s password (on a terminal, or in "
                f"{PASSWORD_ENV}): deciding as someone needs their proof of identity",
                returncode=EXIT_ERROR,
            )
        password = getpass.getpass(f"Password of {username}: ")
    user = authenticate(username=username, password=password)
    if user is None:
        raise CommandError(
            f"--as {username}: wrong password (or the account is inactive)",
            returncode=EXIT_ERROR,
        )
    return user
