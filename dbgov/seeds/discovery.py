"""Finding an environment's seed files: ``<SEED_DIRS>/<env>/`` and ``<app>/fixtures/<env>/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings

from dbgov.conf import dbgov_settings

__all__ = ["SeedFile", "discover", "environments", "seed_roots"]

FIXTURE_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@dataclass(frozen=True)
class SeedFile:
    path: Path
    display: str  # relative to BASE_DIR where possible: the key of its SeedLoad records
    kind: str  # "fixture" or "generator"
    format: str  # "json", "yaml" or "python"


def _base_dir() -> Path:
    return Path(getattr(settings, "BASE_DIR", Path.cwd())).resolve()


def display_path(path: Path) -> str:
    path = path.resolve()
    try:
        return path.relative_to(_base_dir()).as_posix()
    except ValueError:
        return path.as_posix()


def seed_roots() -> list[Path]:
    """Folders holding one sub-folder per environment, in search order."""
    roots: list[Path] = []
    for entry in dbgov_settings.SEED_DIRS:
        path = Path(entry)
        roots.append((path if path.is_absolute() else _base_dir() / path).resolve())
    for config in apps.get_app_configs():
        roots.append((Path(config.path) / "fixtures").resolve())
    seen: set[Path] = set()
    return [r for r in roots if not (r in seen or seen.add(r))]  # type: ignore[func-returns-value]


def environments() -> list[str]:
    """Environments that have a seed folder somewhere."""
    found = {
        child.name
        for root in seed_roots()
        if root.is_dir()
        for child in root.iterdir()
        if child.is_dir() and not child.name.startswith((".", "_"))
    }
    return sorted(found)


def discover(environment: str) -> list[SeedFile]:
    """The environment's seed files (not recursive; names starting with _ or . are skipped)."""
    files: list[SeedFile] = []
    for root in seed_roots():
        folder = root / environment
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.startswith(("_", ".")):
                continue
            suffix = path.suffix.lower()
            if suffix in FIXTURE_SUFFIXES:
                files.append(
                    SeedFile(path, display_path(path), "fixture", FIXTURE_SUFFIXES[suffix])
                )
            elif suffix == ".py":
                files.append(SeedFile(path, display_path(path), "generator", "python"))
    return files
