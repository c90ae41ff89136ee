"""System checks of the rehearsal settings, and the shipped migrations do not drift."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.test import override_settings

from dbgov.checks import check_rehearsal_settings


def ids() -> list[str]:
    return [m.id for m in check_rehearsal_settings()]


def test_defaults_pass() -> None:
    assert ids() == []


@pytest.mark.parametrize(
    ("setting", "check_id"),
    [
        ({"COPY_STRATEGY": "fast"}, "dbgov.E050"),
        ({"COPY_PREFIX": "Copy-Of-"}, "dbgov.E051"),
        ({"COPY_PREFIX": "x" * 31}, "dbgov.E051"),
        ({"OLTP_BUDGET_MS": 0}, "dbgov.E052"),
        ({"EXPLAIN_STATEMENT_TIMEOUT_MS": "30s"}, "dbgov.E052"),
        ({"STATEMENT_BUDGET_MS": -1}, "dbgov.E052"),
        ({"REGRESSION_MIN_BLOCKS": "many"}, "dbgov.E052"),
    ],
)
def test_bad_rehearsal_settings(setting: dict[str, object], check_id: str) -> None:
    with override_settings(DBGOV=setting):
        assert ids() == [check_id]


def test_explain_models_have_their_migration() -> None:
    # What `makemigrations --check` computes, without touching any database.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    detector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps))
    changes = detector.changes(graph=loader.graph, trim_to_apps={"dbgov"})
    assert "dbgov" not in changes, changes.get("dbgov")
