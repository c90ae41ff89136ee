"""System checks dbgov.E070-E074: risk thresholds and inputs, guarded migrate settings."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from dbgov.checks import check_risk_and_migrate_settings


def ids(**dbgov):
    with override_settings(DBGOV={**settings.DBGOV, **dbgov}):
        return [m.id for m in check_risk_and_migrate_settings()]


def test_defaults_pass():
    assert ids() == []


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"RISK_THRESHOLDS": []}, "dbgov.E070"),
        ({"RISK_THRESHOLDS": {"blocks-everything": {}}}, "dbgov.E070"),
        ({"RISK_THRESHOLDS": {"blocks-reads": {"requires-care": 5000}}}, "dbgov.E070"),
        ({"RISK_THRESHOLDS": {"blocks-reads": {"requires-care": "1s"}}}, "dbgov.E070"),
        ({"RISK_INPUTS": "dbgov.nowhere.inputs"}, "dbgov.E071"),
        ({"MIGRATE_LOCK_TIMEOUT_MS": -1}, "dbgov.E072"),
        ({"MIGRATE_RETRIES": 2.5}, "dbgov.E072"),
        ({"MIGRATE_JITTER": 1.5}, "dbgov.E073"),
        ({"MIGRATE_ADVISORY_LOCK": "deploy"}, "dbgov.E074"),
    ],
)
def test_each_bad_setting_has_its_id(setting, expected):
    assert ids(**setting) == [expected]


def test_partial_thresholds_keep_the_defaults():
    assert ids(RISK_THRESHOLDS={"blocks-writes": {"never-without-a-plan": 60_000}}) == []
