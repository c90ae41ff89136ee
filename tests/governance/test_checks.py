"""System checks of the governance settings (ids dbgov.E020 … E022)."""

from __future__ import annotations

from django.test import override_settings

from dbgov.checks import check_governance_settings


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
