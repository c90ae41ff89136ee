"""Steps → migration files (Django's MigrationWriter), written all together or not at all.

Each file carries the task marker as ``dbgov makemigrations --task`` writes it, its
phase (``dbgov_phase = "post"``), ``atomic = False`` where a step needs it and its
declared suppressions; dependencies chain the steps, and the pending migrations that
depended on the original now depend on the last step.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import migrations
from django.db.migrations.writer import MigrationWriter

from ..cli.makemigrations import CLASS_LINE
from .steps import FixError, Step

__all__ = ["FileChanges", "render_step", "rewire"]


def _attributes(step: Step, task: str | None, index_purpose: dict[str, str]) -> str:
    lines = []
    if task:
        lines.append(f'    dbgov_task = "{task}"')
    if step.phase != "pre":
        lines.append(f'    dbgov_phase = "{step.phase}"')
    if not step.atomic:
        lines.append("    atomic = False")
    if step.ignore:
        lines.append(f"    dbgov_ignore = {step.ignore!r}")
    if index_purpose:
        lines.append(f"    dbgov_index_purpose = {index_purpose!r}")
    return "\n".join(lines) + "\n" if lines else ""


def render_step(
    step: Step,
    *,
    app_label: str,
    name: str,
    dependencies: list[tuple[str, str]] | list[Any],
    task: str | None,
    header: str,
    index_purpose: dict[str, str],
) -> tuple[Path, str]:
    """The path and text of the migration file for ``step``."""
    migration: Any = migrations.Migration(name, app_label)
    migration.dependencies = list(dependencies)
    migration.operations = list(step.operations)
    writer = MigrationWriter(migration, include_header=False)
    text = writer.as_string()
    text, count = CLASS_LINE.subn(
        lambda m: m.group(0) + _attributes(step, task, index_purpose), text, count=1
    )
    assert count == 1, "MigrationWriter wrote no Migration class"
    comment = "".join(f"# {line}\n" for line in [header, *_wrap(step.comment)] if line)
    return Path(writer.path), comment + "\n" + text


def _wrap(text: str, width: int = 86) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def rewire(text: str, app_label: str, old: str, new: str) -> str:
    """``text`` with the dependency ``(app_label, old)`` pointing at ``new``."""
    pattern = re.compile(rf"""(['"]){re.escape(app_label)}\1(\s*,\s*)(['"]){re.escape(old)}\3""")
    return pattern.sub(
        lambda m: f"{m.group(1)}{app_label}{m.group(1)}{m.group(2)}{m.group(3)}{new}{m.group(3)}",
        text,
    )


@dataclass
class FileChanges:
    """New and changed files and the deleted original: applied together, undone together."""

    writes: dict[Path, str] = field(default_factory=dict)
    deletes: list[Path] = field(default_factory=list)
    _backup: dict[Path, bytes | None] = field(default_factory=dict)

    def apply(self) -> None:
        for path in [*self.writes, *self.deletes]:
            self._backup[path] = path.read_bytes() if path.exists() else None
        try:
            for path, text in self.writes.items():
                path.write_text(text, encoding="utf-8")
            for path in self.deletes:
                path.unlink()
        except OSError as exc:
            self.rollback()
            raise FixError(f"cannot write {exc.filename}: {exc.strerror}") from exc
        forget_modules(self.writes.keys() | set(self.deletes))

    def rollback(self) -> None:
        for path, data in self._backup.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)
        forget_modules(self._backup.keys())
        self._backup.clear()


def forget_modules(paths: Any) -> None:
    """Drop the imported migration modules of ``paths`` so the next load reads the disk."""
    resolved = {Path(p).resolve() for p in paths}
    for module_name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if filename and Path(filename).resolve() in resolved:
            del sys.modules[module_name]
    importlib.invalidate_caches()
