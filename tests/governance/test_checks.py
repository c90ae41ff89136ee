"""System checks of the governance settings (ids dbgov.E020 … E026)."""

from __future__ import annotations

from django.test import override_settings

from dbgov.checks import check_governance_settings, check_integrity_settings


def ids(**dbgov: object) -> list[str]:
    with override_settings(DBGOV=dbgov):
        return [m.id for m in check_governance_settings()]


def test_defaults_are_valid() -> None:
    assert ids() == []


def test_required_approvals_must_be_a_mapping_of_known_severities() -> None:
    assert ids(REQUIRED_APPROVALS=[1, 2]) == ["dbgov.E020"]
    assert ids(REQUIRED_APPROVALS={"critical": 1}) == ["dbgov.E020"]


def test_required_approvals_are_whole_numbers() -> None:
    assert ids(REQUIRED_APPROVALS={"requires-care": -1}) == ["dbgov.E021"]
    assert ids(REQUIRED_APPROVALS={"requires-care": "two"}) == ["dbgov.E021"]
    assert ids(REQUIRED_APPROVALS={"requires-care": 0, "never-without-a-plan": 2}) == []


def test_dba_group_must_be_named() -> None:
    assert ids(DBA_GROUP="  ") == ["dbgov.E022"]


def integrity_ids(**dbgov: object) -> list[str]:
    with override_settings(DBGOV=dbgov):
        return [m.id for m in check_integrity_settings()]


def test_integrity_defaults_are_valid() -> None:
    assert integrity_ids() == []


def test_signing_keys_are_a_list_of_distinct_keys() -> None:
    assert integrity_ids(SIGNING_KEYS="one") == ["dbgov.E023"]
    assert integrity_ids(SIGNING_KEYS=[]) == ["dbgov.E023"]
    assert integrity_ids(SIGNING_KEYS=["a", ""]) == ["dbgov.E023"]
    assert integrity_ids(SIGNING_KEYS=["a", "a"]) == ["dbgov.E026"]
    assert integrity_ids(SIGNING_KEYS=["new", "old"]) == []
    with override_settings(SECRET_KEY=""):
        assert integrity_ids() == ["dbgov.E023"]


def test_unwaivable_severity_is_a_severity_or_none() -> None:
    assert integrity_ids(UNWAIVABLE_SEVERITY="critical") == ["dbgov.E024"]
    assert integrity_ids(UNWAIVABLE_SEVERITY=None) == []
    assert integrity_ids(UNWAIVABLE_SEVERITY="requires-care") == []


def test_governed_apps_are_installed_labels() -> None:
    assert integrity_ids(GOVERNED_APPS="shop") == ["dbgov.E025"]
    assert integrity_ids(GOVERNED_APPS=["project.shop"]) == ["dbgov.E025"]
    assert integrity_ids(GOVERNED_APPS=["shop"]) == []
