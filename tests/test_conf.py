"""The settings namespace: defaults, overrides, and a reference that lists every key."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import override_settings

from dbgov.conf import DEFAULTS, dbgov_settings


def test_every_setting_is_documented():
    reference = (Path(settings.BASE_DIR) / "docs" / "settings.md").read_text()
    missing = [key for key in DEFAULTS if f"`{key}`" not in reference]
    assert missing == []


def test_override_settings_is_seen_at_once():
    assert dbgov_settings.OLTP_BUDGET_MS == 100.0
    with override_settings(DBGOV={"OLTP_BUDGET_MS": 5}):
        assert dbgov_settings.OLTP_BUDGET_MS == 5
        assert dbgov_settings.STAGING_DATABASE == "staging"  # defaults still merged
    assert dbgov_settings.OLTP_BUDGET_MS == 100.0
