"""Fixtures for the analysis tests: scratch databases and migration scenarios."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings


def _admin_cursor():
    return connections["default"]._nodb_cursor()


@pytest.fixture
def scratch_db(django_db_blocker) -> Iterator[str]:
    """A new, empty database under the alias ``scratch`` (dropped afterwards).

    Every app but shop is migrated, so the shop app's migrations are all pending:
    each test decides what the shop history is (``shop_migrations``).
    """
    alias = "scratch"
    name = f"dbgov_test_scratch_{secrets.token_hex(4)}"
    with django_db_blocker.unblock():
        with _admin_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        settings_dict = copy.deepcopy(connections.settings["default"])
        settings_dict["NAME"] = name
        connections.settings[alias] = settings_dict
        try:
            for app in ("contenttypes", "auth", "admin", "sessions", "dbgov"):
                call_command("migrate", app, database=alias, verbosity=0)
            yield alias
        finally:
            connections[alias].close()
            del connections[alias]
            del connections.settings[alias]
            with _admin_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def shop_migrations(request):
    """Swap the shop app's migrations for a scenario package: use with indirect params
    or call the returned function with the scenario name."""
    overrides = []

    def use(scenario: str) -> None:
        module = f"tests.analysis.scenarios.{scenario}" if "." not in scenario else scenario
        o = override_settings(MIGRATION_MODULES={"shop": module})
        o.enable()
        overrides.append(o)

    yield use
    for o in reversed(overrides):
        o.disable()
