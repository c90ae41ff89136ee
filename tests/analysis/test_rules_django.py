"""Rules that need the Django migration objects: each has a failing migration
(scenarios/rules_bad) and a passing one (scenarios/rules_good)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import override_settings

from dbgov.analysis.engine import build_plan

pytestmark = pytest.mark.django_db

DJANGO_RULES = {
    "fk-on-delete-cascade",
    "data-and-schema-mixed",
    "index-without-purpose",
    "pii-column-unflagged",
    "prefer-bigint-keys",
    "runpython-imports-models",
    "table-naming",
    "table-standard-columns",
}


def _findings(alias, shop_migrations, scenario):
    shop_migrations(f"tests.analysis.scenarios.{scenario}")
    plan = build_plan(database=alias)
    return plan, {
        (f.rule_id, f.migration, f.operation_index) for f in plan.findings if f.suppressed is None
    }


def test_rules_fire_on_the_bad_migrations(scratch_db, shop_migrations):
    plan, found = _findings(scratch_db, shop_migrations, "rules_bad")
    fired = {rule for rule, _, _ in found}
    assert fired >= DJANGO_RULES, DJANGO_RULES - fired
    assert ("fk-on-delete-cascade", "0001_initial", 1) in found
    assert ("table-naming", "0001_initial", 0) in found
    assert ("index-without-purpose", "0002_more", 0) in found
    assert ("runpython-imports-models", "0002_more", 3) in found
    # db_index=True is an index too; Django's FK and _like indexes are not flagged
    assert ("index-without-purpose", "0002_more", 2) in found
    assert ("index-without-purpose", "0001_initial", 1) not in found
    messages = {f.rule_id: f.message for f in plan.findings}
    assert "Product" in messages["runpython-imports-models"]
    assert "customers.email" in messages["pii-column-unflagged"]
    assert "created_at" in messages["table-standard-columns"]


def good_scenario_patterns() -> set[str]:
    """The query-pattern registry of the good scenario (its index names this pattern)."""
    return {"customer search by name"}


def test_rules_are_silent_on_the_good_migrations(scratch_db, shop_migrations):
    registry = {
        **django_settings.DBGOV,
        "QUERY_PATTERN_NAMES": f"{__name__}.good_scenario_patterns",
    }
    shop_migrations("tests.analysis.scenarios.rules_good")
    # Enabled after shop_migrations' override and undone before it (overrides nest LIFO).
    with override_settings(DBGOV=registry):
        _plan, found = _findings(scratch_db, shop_migrations, "rules_good")
    assert {rule for rule, _, _ in found} & DJANGO_RULES == set()
