"""Fixtures of the seeds tests: seed folders under tests/seeds/data, one per scenario
(each scenario is an "environment" of that folder)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def seed_dirs(settings: Any) -> Callable[..., None]:
    """Point DBGOV['SEED_DIRS'] at some folders (and set other DBGOV keys)."""

    def configure(*dirs: Path, **extra: Any) -> None:
        settings.DBGOV = {**settings.DBGOV, "SEED_DIRS": [str(d) for d in dirs], **extra}

    return configure


@pytest.fixture
def data_dir(seed_dirs: Callable[..., None]) -> Path:
    seed_dirs(DATA)
    return DATA


@pytest.fixture
def scratch(tmp_path: Path, seed_dirs: Callable[..., None]) -> Callable[[str, str], Path]:
    """Copy a scenario to a temporary seed folder (as environment ``env``) to edit it."""

    seed_dirs(tmp_path)

    def copy(scenario: str, env: str = "dev") -> Path:
        target = tmp_path / env
        shutil.copytree(DATA / scenario, target)
        return target

    return copy
