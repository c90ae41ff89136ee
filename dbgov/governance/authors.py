"""Who wrote a migration: from git, else from ``dbgov makemigrations --task``.

Authors never decide on their migration's findings (four eyes). They are recorded
once (``MigrationAuthor``, append-only) with an audit event, so that pages and the
gate read them with one query and nobody can quietly remove themselves.
"""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from dbgov.models import MigrationAuthor

__all__ = [
    "current_user",
    "git_author_email",
    "record_authors",
    "record_makemigrations_author",
]


def git_author_email(path: str | Path) -> str | None:
    """Email of the author of the commit that added ``path`` (None: not in git)."""
    path = Path(path)
    if not path.is_absolute():
        path = Path(getattr(settings, "BASE_DIR", Path.cwd())) / path
    if not path.exists():
        return None
    try:
        out = subprocess.run(
            ["git", "log", "--diff-filter=A", "--follow", "--format=%ae", "--", path.name],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return lines[-1] if out.returncode == 0 and lines else None  # the oldest: the adder


def _users_by(email: str = "", login: str = "") -> list[Any]:
    User = get_user_model()
    users: list[Any] = []
    if email:
        users += list(User._default_manager.filter(email__iexact=email))
    if login and not users:
        users += list(User._default_manager.filter(**{User.USERNAME_FIELD: login}))
    return users


def _record(app: str, name: str, source: str, email: str = "", login: str = "") -> None:
    from .audit import audit

    users = _users_by(email, login) or [None]
    MigrationAuthor.objects.bulk_create(
        MigrationAuthor(app_label=app, name=name, user=u, email=email, login=login, source=source)
        for u in users
    )
    audit(
        "migration.author",
        subject=f"{app}.{name}",
        data={
            "source": source,
            "email": email,
            "login": login,
            "users": [u.get_username() for u in users if u is not None],
        },
    )


def record_authors(migrations: Iterable[tuple[str, str, str | None]]) -> None:
    """Record the git author of each (app, name, path) that has no git author yet."""
    migrations = [(a, n, p) for a, n, p in migrations if p]
    if not migrations:
        return
    known = set(
        MigrationAuthor.objects.filter(
            name__in={n for _, n, _ in migrations}, source=MigrationAuthor.Source.GIT
        ).values_list("app_label", "name")
    )
    for app, name, path in migrations:
        if (app, name) in known or path is None:
            continue
        email = git_author_email(path)
        if email:
            _record(app, name, MigrationAuthor.Source.GIT, email=email)


def record_makemigrations_author(app: str, name: str, *, user: Any = None) -> None:
    """The user who ran ``dbgov makemigrations --task`` (``--as``, else the login name
    matched to a user, plus git's configured email)."""
    if user is not None:
        email, login = getattr(user, "email", "") or "", user.get_username()
    else:
        login, email = _login_and_email()
    _record(app, name, MigrationAuthor.Source.MAKEMIGRATIONS, email=email, login=login)


def _login_and_email() -> tuple[str, str]:
    try:
        login = getpass.getuser()
    except Exception:  # pragma: no cover - containers without a login name
        login = ""
    try:
        email = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        email = ""
    return login, email


def current_user() -> Any:
    """The user running this command: git's ``user.email``, else the login name, matched
    to a user (None when neither matches). ``dbgov plan`` stores it as the requester."""
    login, email = _login_and_email()
    users = _users_by(email, login)
    return users[0] if len(users) == 1 else None
