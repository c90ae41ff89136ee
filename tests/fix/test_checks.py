"""dbgov.E090: the backfills `dbgov fix` writes need a positive batch size."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from dbgov.checks import check_fix_settings


@pytest.mark.parametrize("size", [0, -5, "1000", 2.5, True])
def test_a_bad_batch_size_is_named(size: object) -> None:
    with override_settings(DBGOV={"BACKFILL_BATCH_SIZE": size}):
        found = check_fix_settings()
    assert [m.id for m in found] == ["dbgov.E090"]
    assert repr(size) in found[0].msg


def test_the_default_passes_and_the_check_is_registered() -> None:
    assert check_fix_settings() == []
    assert check_fix_settings in checks.registry.registry.get_checks()
