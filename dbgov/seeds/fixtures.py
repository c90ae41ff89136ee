"""Django serialized fixtures (JSON, YAML): parsing, validation, the PII check, loading.

Files are parsed and validated before anything is written; objects are then saved
model by model in foreign-key order (see ``service``) with Django's own
deserializer, so a fixture here is exactly what ``dumpdata`` writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.serializers import base, python
from django.db import models
from faker import Faker

from . import pii
from .discovery import SeedFile
from .errors import SeedError

__all__ = ["FixtureObject", "ParsedFixture", "parse_fixture"]

PII_ALLOWANCE_SUFFIX = ".pii-allowed"


@dataclass
class FixtureObject:
    file: SeedFile
    index: int  # 0-based position in the file
    model: type[models.Model]
    data: dict[str, Any]
    saved: Any = None  # the DeserializedObject after saving

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def describe(self) -> str:
        ident = ""
        pk = self.saved.object.pk if self.saved is not None else self.data.get("pk")
        if pk is not None:
            ident = f" pk={pk}"
        elif hasattr(self.model, "natural_key"):
            fields = self.data.get("fields", {})
            ident = " " + ", ".join(
                f"{k}={fields.get(k)!r}" for k in _natural_key_fields(self.model)
            )
        return f"object #{self.index + 1} ({self.label}{ident})"


@dataclass
class ParsedFixture:
    file: SeedFile
    objects: list[FixtureObject] = field(default_factory=list)

    def by_model(self) -> dict[type[models.Model], list[FixtureObject]]:
        out: dict[type[models.Model], list[FixtureObject]] = {}
        for obj in self.objects:
            out.setdefault(obj.model, []).append(obj)
        return out


def _natural_key_fields(model: type[models.Model]) -> list[str]:
    # Natural keys are code, not data; the common cases: a unique `key`/`username`…
    unique = [f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key]
    for candidate in ("key", "username", "slug", "code", "sku", "name"):
        if candidate in unique:
            return [candidate]
    return unique[:1]


def _read(file: SeedFile) -> Any:
    try:
        text = file.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{file.display}: cannot read the file: {exc}") from None
    if file.format == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedError(
                f"{file.display}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SeedError(f"{file.display}: invalid YAML{where}: {problem}") from None


def parse_fixture(file: SeedFile) -> ParsedFixture:
    """Read and validate one fixture file: models, fields, identity of every object."""
    data = _read(file)
    if data is None:
        data = []
    if not isinstance(data, list):
        raise SeedError(
            f"{file.display}: a fixture is a list of objects, got {type(data).__name__}"
        )
    parsed = ParsedFixture(file)
    for index, raw in enumerate(data):
        where = f"{file.display}: object #{index + 1}"
        if not isinstance(raw, dict) or not isinstance(raw.get("model"), str):
            raise SeedError(f'{where}: each object needs a "model" (app_label.ModelName)')
        try:
            model = apps.get_model(raw["model"])
        except (LookupError, ValueError):
            raise SeedError(f"{where}: unknown model {raw['model']!r}") from None
        if raw.get("pk") is not None:
            where = f"{where} ({model._meta.label_lower} pk={raw['pk']})"
        else:
            where = f"{where} ({model._meta.label_lower})"
        fields = raw.get("fields", {})
        if not isinstance(fields, dict):
            raise SeedError(f'{where}: "fields" must be a mapping')
        for name in fields:
            try:
                f = model._meta.get_field(name)
            except FieldDoesNotExist:
                raise SeedError(f"{where}: unknown field {name!r}") from None
            if not (f.concrete or f.many_to_many) or f.auto_created and not f.concrete:
                raise SeedError(f"{where}: {name!r} is not a field you can load")
        has_natural_key = hasattr(model, "natural_key") and hasattr(
            model._default_manager, "get_by_natural_key"
        )
        if raw.get("pk") is None and not has_natural_key:
            raise SeedError(
                f'{where}: no "pk", and the model has no natural '
                "key; seeds must name their rows so that a reload updates instead of duplicating"
            )
        parsed.objects.append(FixtureObject(file, index, model, raw))
    return parsed


def pii_allowed(file: SeedFile) -> str | None:
    """The reason written in ``<file>.pii-allowed``, if that allowance exists."""
    allowance = Path(str(file.path) + PII_ALLOWANCE_SUFFIX)
    if allowance.is_file():
        reason = allowance.read_text(encoding="utf-8").strip()
        if not reason:
            raise SeedError(
                f"{file.display}{PII_ALLOWANCE_SUFFIX}: the allowance must give a reason"
            )
        return reason
    return None


def check_pii(parsed: ParsedFixture) -> None:
    """Refuse real-looking personal data (non-production environments)."""
    problems: list[str] = []
    for obj in parsed.objects:
        flagged = pii.pii_fields(obj.model)
        for name, value in obj.data.get("fields", {}).items():
            f = flagged.get(name)
            if f is None:
                continue
            reason = pii.looks_real(f, value)
            if reason:
                problems.append(f"{obj.describe()} field {name}: {reason}")
    if problems:
        shown = "\n  ".join(problems[:5])
        more = f"\n  … and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise SeedError(
            f"{parsed.file.display}: personal data that looks real in a non-production seed:\n  "
            f"{shown}{more}\nUse generated values (leave the field out: dbgov fills it), or allow "
            f"it with {parsed.file.display}{PII_ALLOWANCE_SUFFIX} (the reason) or "
            "DBGOV['SEED_ALLOW_REAL_PII']."
        )


def fill_pii(parsed: ParsedFixture) -> None:
    """PII fields a fixture object leaves out get a fake value, stable per object and field."""
    faker = Faker("en_US")
    for obj in parsed.objects:
        fields = obj.data.setdefault("fields", {})
        # The object's identity: its pk, else its natural key fields (else its position).
        ident = obj.data.get("pk")
        if ident is None:
            key = {k: fields.get(k) for k in _natural_key_fields(obj.model)}
            ident = json.dumps(key, sort_keys=True, default=str) if key else f"#{obj.index}"
        for name, f in pii.pii_fields(obj.model).items():
            if name in fields or f.primary_key:
                continue
            faker.seed_instance(pii.stable_seed(obj.file.display, obj.label, ident, name))
            fields[name] = pii.fake_value(f, faker)


def deserialize(
    objs: list[FixtureObject], using: str, forward_references: bool = False
) -> list[tuple[FixtureObject, Any]]:
    """Django's deserializer over some objects of one file, errors naming the object.

    ``forward_references`` only for models in a foreign-key cycle (or referencing
    themselves): elsewhere the order guarantees the referenced rows are saved, and a
    natural key that does not resolve is an error right away.
    """
    out = []
    for obj in objs:
        try:
            (deserialized,) = list(
                python.Deserializer(
                    [obj.data], using=using, handle_forward_references=forward_references
                )
            )
        except (base.DeserializationError, ObjectDoesNotExist, ValueError) as exc:
            missing = isinstance(exc, ObjectDoesNotExist) or isinstance(
                exc.__cause__ or exc.__context__, ObjectDoesNotExist
            )
            prefix = "a reference to a missing row (natural key not found): " if missing else ""
            raise SeedError(
                f"{obj.file.display}: {obj.describe()}: {prefix}{_clean(exc)}"
            ) from None
        out.append((obj, deserialized))
    return out


def _clean(exc: BaseException) -> str:
    # Django's WithData reads "<error>: (model:pk=…) field_value was '…'": keep all of it
    # on one line (it names the unresolved natural key).
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
