"""Models and migrations agree: the model changes no migration captures.

What ``makemigrations --check`` detects, as data: Django's autodetector compares the
state the migration files make with the models, without a database and without writing
anything. ``dbgov check`` fails on it, so a missing migration never reaches review
unnoticed (the plan can only review migrations that exist).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState

from .graph import load_graph

__all__ = ["MissingMigration", "missing_migrations"]


@dataclass(frozen=True)
class MissingMigration:
    app_label: str
    changes: tuple[str, ...]  # what the missing migration would do, one line each

    @property
    def message(self) -> str:
        return (
            f"app {self.app_label!r} has model changes no migration captures: "
            f"{'; '.join(self.changes)}. Write the migration: manage.py dbgov makemigrations "
            f"--task T-NNN {self.app_label}"
        )

    def as_dict(self) -> dict[str, object]:
        return {"app_label": self.app_label, "changes": list(self.changes)}


def missing_migrations() -> list[MissingMigration]:
    """Per app, the operations ``makemigrations`` would write now (none: they agree)."""
    loader = load_graph(None)
    questioner = NonInteractiveMigrationQuestioner(dry_run=True)
    autodetector = MigrationAutodetector(
        loader.project_state(), ProjectState.from_apps(apps), questioner
    )
    changes = autodetector.changes(graph=loader.graph)
    return [
        MissingMigration(
            app_label,
            tuple(op.describe() for migration in migrations for op in migration.operations),
        )
        for app_label, migrations in sorted(changes.items())
    ]
