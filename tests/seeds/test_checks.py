"""System checks of the seeds settings (dbgov.E060, dbgov.W061)."""

from __future__ import annotations

from typing import Any

from dbgov.checks import check_seed_settings


def ids(settings: Any, **dbgov: Any) -> list[str]:
    settings.DBGOV = {**settings.DBGOV, **dbgov}
    return [m.id for m in check_seed_settings()]


def test_defaults_pass(settings: Any) -> None:
    assert ids(settings) == []


def test_seed_dirs_must_be_a_list_of_paths(settings: Any) -> None:
    assert ids(settings, SEED_DIRS="fixtures") == ["dbgov.E060"]


def test_pii_fields_must_name_model_fields(settings: Any) -> None:
    assert ids(settings, PII_FIELDS=["auth.User.email", "auth.User.emial", "nope.Model.x"]) == [
        "dbgov.W061",
        "dbgov.W061",
    ]
