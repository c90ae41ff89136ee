"""Fingerprints: what an approval binds to (the migration's content, operation, rule)."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings

from dbgov.analysis import model as am
from dbgov.analysis.report import fingerprint as report_fingerprint

from .common import RULE_APPLIED_MISSING


def finding_fingerprint(
    *,
    sha256: str | None,
    app_label: str | None,
    migration: str | None,
    operation_index: int | None,
    rule_id: str,
) -> str:
    """sha256 over (migration file content hash, migration label, operation index, rule).

    The same identity as the ``fingerprint`` of ``dbgov plan --format json``
    (dbgov.analysis.report.fingerprint). Editing the file changes every fingerprint of
    its findings, so earlier approvals no longer apply; the label keeps two identical
    files (e.g. two empty migrations) apart.
    """
    probe = am.Finding(
        rule_id=rule_id,
        severity=am.Severity.INFO,
        message="",
        safe_alternative="",
        app_label=app_label,
        migration=migration,
        operation_index=operation_index,
    )
    return report_fingerprint(probe, sha256)


def slot(f: am.Finding) -> str:
    op = "-" if f.operation_index is None else str(f.operation_index)
    return f"{f.app_label or ''}.{f.migration or ''}#{op}:{f.rule_id}"


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def migration_file(migration: Any) -> Path | None:
    """The file a loaded Migration instance (or class) was imported from."""
    module = sys.modules.get(getattr(migration, "__module__", ""))
    file = getattr(module, "__file__", None)
    return Path(file) if file else None


def display_path(path: Path | None) -> str:
    """Project-relative path when under BASE_DIR (or the working directory)."""
    if path is None:
        return ""
    for base in (getattr(settings, "BASE_DIR", None), Path.cwd()):
        if base is None:
            continue
        try:
            return str(path.resolve().relative_to(Path(base).resolve()))
        except ValueError:
            continue
    return str(path)


class Fingerprinter:
    """Fingerprints of analysis findings: the file hash comes from the plan, else disk."""

    def __init__(self, plan: am.Plan | None = None) -> None:
        self.shas: dict[tuple[str, str], str | None] = {}
        if plan is not None:
            self.shas = {m.key: m.content_sha256 for m in plan.migrations}
        self._disk: dict[tuple[str, str], str] | None = None

    def _disk_sha(self, key: tuple[str, str]) -> str | None:
        if self._disk is None:
            from django.db.migrations.loader import MigrationLoader

            loader = MigrationLoader(None, ignore_no_migrations=True)
            self._disk = {}
            for k, mig in loader.disk_migrations.items():
                path = migration_file(mig)
                if path is not None and path.exists():
                    self._disk[k] = file_sha256(path)
        return self._disk.get(key)

    def __call__(self, f: am.Finding) -> str:
        key = (f.app_label or "", f.migration or "")
        if key in self.shas:
            sha = self.shas[key]
        elif f.rule_id == RULE_APPLIED_MISSING or not f.migration:
            sha = None
        else:
            sha = self._disk_sha(key)
        return finding_fingerprint(
            sha256=sha,
            app_label=f.app_label,
            migration=f.migration,
            operation_index=f.operation_index,
            rule_id=f.rule_id,
        )


def fingerprints(findings: Iterable[am.Finding], *, plan: am.Plan | None = None) -> list[str]:
    """Fingerprints of analysis findings (file hashes from ``plan``, else from disk)."""
    fingerprinter = Fingerprinter(plan)
    return [fingerprinter(f) for f in findings]
