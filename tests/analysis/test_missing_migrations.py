"""Models and migrations agree: ``check`` fails on model changes no migration captures."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from dbgov.analysis.missing_migrations import missing_migrations

SHOP_MIGRATIONS = Path(settings.BASE_DIR) / "project" / "shop" / "migrations"


@pytest.fixture
def shop_without_its_last_migration(tmp_path, monkeypatch):
    """shop's migrations as a package that lacks 0011 (the shipping address field)."""
    package = tmp_path / "shop_behind"
    package.mkdir()
    for path in SHOP_MIGRATIONS.glob("*.py"):
        if not path.name.startswith("0011"):
            shutil.copy(path, package / path.name)
    monkeypatch.syspath_prepend(str(tmp_path))
    with override_settings(MIGRATION_MODULES={"shop": "shop_behind"}):
        yield


def test_the_demo_models_and_migrations_agree():
    assert missing_migrations() == []


def test_a_model_change_without_its_migration_is_named(shop_without_its_last_migration):
    (missing,) = missing_migrations()
    assert missing.app_label == "shop"
    assert any("shipping_address" in change for change in missing.changes), missing.changes
    assert missing.message.startswith("app 'shop' has model changes no migration captures: ")


@pytest.mark.django_db
def test_check_fails_on_a_missing_migration(shop_without_its_last_migration):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("dbgov", "check", "--format", "json", stdout=out, stderr=io.StringIO())
    assert exited.value.code == 1
    doc = json.loads(out.getvalue())
    assert doc["ok"] is False
    assert [m["app_label"] for m in doc["missing_migrations"]] == ["shop"]
