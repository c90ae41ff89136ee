"""A synthetic Django project shaped like a large real one, for the plan benchmarks.

What makes a real project's plan slow is not the number of migrations alone but how
related its models are: every operation on a model re-renders the models around it. So
the generated project has what real ones have (measured on a ~300-migration, ~150-model
open-source project):

- hub models referenced by dozens of others: a ``Tenant`` and a ``Site`` in app
  ``core``, Django's ``ContentType`` and ``auth.User``;
- several foreign keys and many-to-many relations per model, some M2Ms with an explicit
  ``through`` model, foreign keys across apps;
- custom field classes with their own ``deconstruct()`` and ``db_type()``
  (``benchproj/fields.py``), as every large project has;
- migrations of mixed operations: models created a few at a time, then fields added
  (nullable, with defaults, foreign keys to hubs, custom fields), altered (lengths,
  types, ``on_delete``), renamed and removed, indexes and constraints added and
  removed, ``unique_together`` changes, data migrations and RunSQL, the odd model
  renamed; dependencies within and across apps.

Files are written with Django's MigrationWriter, as ``makemigrations`` writes them.
"""

from __future__ import annotations

import random
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

APPS = ["core", "accounts", "catalog", "orders", "billing", "content", "support", "analytics"]

FIELDS_MODULE = '''
"""Custom fields, as large projects have them: own kwargs, deconstruct(), db_type()."""

from decimal import Decimal

from django.db import models


class MoneyField(models.DecimalField):
    def __init__(self, *args, currency="EUR", **kwargs):
        self.currency = currency
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("default", Decimal("0"))
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.currency != "EUR":
            kwargs["currency"] = self.currency
        return name, path, args, kwargs


class LowerCaseEmailField(models.EmailField):
    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value.lower() if isinstance(value, str) else value


class EncryptedTextField(models.TextField):
    def __init__(self, *args, key_id="default", **kwargs):
        self.key_id = key_id
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        return "bytea"

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["key_id"] = self.key_id
        return name, path, args, kwargs


class SlugListField(models.CharField):
    def __init__(self, *args, separator=",", **kwargs):
        self.separator = separator
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["separator"] = self.separator
        return name, path, args, kwargs
'''


@dataclass
class ModelInfo:
    app: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> kind
    indexes: list[tuple[str, str]] = field(default_factory=list)
    # name -> the plain field it covers (None for a check): PostgreSQL drops a unique
    # constraint with its column, so such fields are never removed or renamed here
    constraints: dict[str, str | None] = field(default_factory=dict)
    unique_together: bool = False
    # fields added by the migration being written: makemigrations never alters, renames or
    # removes a field in the migration that adds it (and an FK's deferred index would clash)
    fresh: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str]:
        return (self.app, self.name.lower())

    @property
    def label(self) -> str:
        return f"{self.app}.{self.name}"


def _settings(target: Path, installed: list[str]) -> str:
    return textwrap.dedent(
        f"""
        import os
        import dj_database_url
        SECRET_KEY = "bench"
        USE_TZ = True
        INSTALLED_APPS = {installed!r}
        DATABASES = {{"default": dj_database_url.parse(os.environ["BENCH_DATABASE_URL"])}}
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        BASE_DIR = {str(target)!r}
        DBGOV = {{
            "SANDBOX_DIR": os.environ.get("BENCH_SANDBOX_DIR") or None,
            "CACHE_DIR": os.environ.get("BENCH_CACHE_DIR") or None,
            "QUERY_PATTERN_NAMES": None,
        }}
        """
    )


def generate(
    target: Path, n_migrations: int, n_models: int, *, seed: int = 42, apps: list[str] | None = None
) -> None:
    """Write the project into ``target`` (a folder holding the ``benchproj`` package)."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(INSTALLED_APPS=[], USE_TZ=True)
        django.setup()
    import sys

    from django.db import migrations, models
    from django.db.migrations.writer import MigrationWriter

    apps = apps or APPS
    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    pkg = target / "benchproj"
    for app in apps:
        (pkg / app / "migrations").mkdir(parents=True)
        (pkg / app / "__init__.py").write_text("")
        (pkg / app / "migrations" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "fields.py").write_text(FIELDS_MODULE)
    sys.path.insert(0, str(target))
    for name in [m for m in sys.modules if m.startswith("benchproj")]:
        del sys.modules[name]
    from benchproj import fields as custom  # type: ignore[import-not-found]

    models_by_key: dict[tuple[str, str], ModelInfo] = {}
    order: list[ModelInfo] = []
    last: dict[str, str] = {}
    counters = {app: 0 for app in apps}
    uid = 0
    hubs = ["core.Tenant", "core.Site"]
    previous: tuple[str, str] | None = None

    def new_uid() -> int:
        nonlocal uid
        uid += 1
        return uid

    def pick_model(exclude: ModelInfo | None = None) -> ModelInfo | None:
        choices = [m for m in order if m is not exclude]
        return rng.choice(choices) if choices else None

    def hub_fields(info: ModelInfo) -> list[tuple[str, models.Field]]:
        out: list[tuple[str, models.Field]] = []
        if info.app != "core" and rng.random() < 0.8:
            out.append(
                (
                    "tenant",
                    models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+"),
                )
            )
            info.fields["tenant"] = "fk"
        if info.app != "core" and rng.random() < 0.3:
            out.append(
                (
                    "site",
                    models.ForeignKey(
                        "core.Site", on_delete=models.PROTECT, null=True, related_name="+"
                    ),
                )
            )
            info.fields["site"] = "fk"
        if rng.random() < 0.4:
            out.append(
                (
                    "owner",
                    models.ForeignKey(
                        "auth.User", on_delete=models.SET_NULL, null=True, related_name="+"
                    ),
                )
            )
            info.fields["owner"] = "fk"
        if rng.random() < 0.2:
            out.append(
                (
                    "content_type",
                    models.ForeignKey(
                        "contenttypes.ContentType",
                        on_delete=models.CASCADE,
                        null=True,
                        related_name="+",
                    ),
                )
            )
            out.append(("object_id", models.PositiveBigIntegerField(null=True)))
            info.fields["content_type"] = "fk"
            info.fields["object_id"] = "int"
        return out

    def create_model(info: ModelInfo) -> migrations.CreateModel:
        fields: list[tuple[str, models.Field]] = [
            ("id", models.BigAutoField(primary_key=True, serialize=False)),
            ("name", models.CharField(max_length=100)),
            ("created_at", models.DateTimeField(auto_now_add=True)),
            ("updated_at", models.DateTimeField(auto_now=True)),
        ]
        info.fields.update(name="char", created_at="dt", updated_at="dt")
        if info.label not in hubs:
            fields.extend(hub_fields(info))
        for j in range(rng.choice([0, 1, 1, 2, 2, 3])):
            t = pick_model()
            if t is not None:
                fields.append(
                    (
                        f"ref{j}",
                        models.ForeignKey(
                            t.label,
                            on_delete=rng.choice([models.CASCADE, models.PROTECT]),
                            null=True,
                            related_name="+",
                        ),
                    )
                )
                info.fields[f"ref{j}"] = "fk"
        roll = rng.random()
        if roll < 0.2:
            fields.append(("amount", custom.MoneyField(currency=rng.choice(["EUR", "USD"]))))
            info.fields["amount"] = "custom"
        elif roll < 0.35:
            fields.append(("email", custom.LowerCaseEmailField(max_length=254, blank=True)))
            info.fields["email"] = "custom"
        elif roll < 0.45:
            fields.append(("secret", custom.EncryptedTextField(key_id="k1", null=True)))
            info.fields["secret"] = "custom"
        for j in range(rng.choice([0, 0, 1, 1, 2])):
            t = pick_model()
            if t is not None:
                fields.append((f"tags{j}", models.ManyToManyField(t.label, related_name="+")))
                info.fields[f"tags{j}"] = "m2m"
        return migrations.CreateModel(name=info.name, fields=fields)

    # The hubs come first, in app core.
    model_specs = [("core", "Tenant"), ("core", "Site")] + [
        (apps[1 + i % (len(apps) - 1)] if len(apps) > 1 else apps[0], f"Model{i}")
        for i in range(n_models - 2)
    ]
    created = 0
    creation_phase = max(2, n_models // 3)

    for number in range(n_migrations):
        ops: list = []
        if created < len(model_specs) and number < creation_phase:
            app = model_specs[created][0]
            for _ in range(rng.choice([2, 3, 4])):
                if created >= len(model_specs) or model_specs[created][0] != app:
                    break
                m_app, name = model_specs[created]
                info = ModelInfo(m_app, name)
                ops.append(create_model(info))
                models_by_key[info.key] = info
                order.append(info)
                created += 1
        else:
            info = rng.choice(order)
            info.fresh.clear()
            app = info.app
            for _ in range(rng.choice([1, 2, 3, 4, 5, 6])):
                ops.extend(_random_operation(rng, info, order, new_uid, custom, models, migrations))
            if not ops:
                name = f"f{new_uid()}"
                ops.append(
                    migrations.AddField(info.name.lower(), name, models.IntegerField(null=True))
                )
                info.fields[name] = "int"
        counters[app] += 1
        name = f"{counters[app]:04d}_step{number}"
        deps = []
        if app in last:
            deps.append((app, last[app]))
        if previous and previous[0] != app:
            deps.append(previous)
        if number == 0 or app not in last:
            deps.append(("auth", "0012_alter_user_first_name_max_length"))
            deps.append(("contenttypes", "0002_remove_content_type_name"))
        migration = migrations.Migration(name, app)
        migration.dependencies = deps
        migration.operations = ops
        migration.initial = app not in last
        writer = MigrationWriter(migration, include_header=False)
        text = writer.as_string().replace(
            "class Migration(migrations.Migration):\n",
            f'class Migration(migrations.Migration):\n    dbgov_task = "T-{number + 1:03d}"\n',
            1,
        )
        (pkg / app / "migrations" / f"{name}.py").write_text(text)
        last[app] = name
        previous = (app, name)

    installed = ["django.contrib.contenttypes", "django.contrib.auth", "pgtrigger", "dbgov"] + [
        f"benchproj.{a}" for a in apps
    ]
    (pkg / "settings.py").write_text(_settings(target, installed))
    (target / "manage.py").write_text(
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'benchproj.settings')\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    sys.path.remove(str(target))


def _random_operation(rng, info, order, new_uid, custom, models, migrations):  # noqa: C901
    """One operation on ``info`` (mutating the bookkeeping), as a list (maybe empty)."""
    model = info.name.lower()
    plain = [
        f
        for f, k in info.fields.items()
        if k in ("char", "int") and f != "name" and f not in info.fresh
    ]
    indexed = {f for _, f in info.indexes} | {f for f in info.constraints.values() if f}
    roll = rng.random()
    if roll < 0.22 or not plain:
        fname = f"f{new_uid()}"
        choice = rng.random()
        if choice < 0.35:
            field, kind = models.IntegerField(null=True), "int"
        elif choice < 0.6:
            field, kind = models.CharField(max_length=50, null=True), "char"
        elif choice < 0.75:
            field, kind = models.BooleanField(default=False), "bool"
        elif choice < 0.88:
            field, kind = (
                custom.SlugListField(null=True, separator=rng.choice([",", ";"])),
                "custom",
            )
        else:
            field, kind = custom.MoneyField(null=True, currency="USD"), "custom"
        info.fields[fname] = kind
        info.fresh.add(fname)
        return [migrations.AddField(model, fname, field)]
    if roll < 0.34:
        target = rng.choice(
            ["core.Tenant", "core.Site", "auth.User"]
            + [m.label for m in order[-20:] if m is not info]
        )
        fname = f"link{new_uid()}"
        info.fields[fname] = "fk"
        info.fresh.add(fname)
        return [
            migrations.AddField(
                model,
                fname,
                models.ForeignKey(target, on_delete=models.SET_NULL, null=True, related_name="+"),
            )
        ]
    if roll < 0.46:
        f = rng.choice(plain)
        if info.fields[f] == "char":
            field = models.CharField(max_length=rng.choice([80, 120, 200, 255]), null=True)
        else:
            field = models.BigIntegerField(null=True)
        return [migrations.AlterField(model, f, field)]
    if roll < 0.52:
        fks = [
            f
            for f, k in info.fields.items()
            if k == "fk" and f not in ("tenant", "site", "owner", "content_type", *info.fresh)
        ]
        if fks:
            f = fks[0]
            target = rng.choice(order)
            # Changing what a foreign key does (a common AlterField on related fields).
            return [
                migrations.AlterField(
                    model,
                    f,
                    models.ForeignKey(
                        target.label,
                        on_delete=models.SET_NULL,
                        null=True,
                        related_name="+",
                        db_index=rng.random() < 0.5,
                    ),
                )
            ]
        return []
    if roll < 0.62:
        f = rng.choice(plain)
        iname = f"i{new_uid()}_{model}"[:30]
        info.indexes.append((iname, f))
        return [migrations.AddIndex(model, models.Index(fields=[f], name=iname))]
    if roll < 0.67 and info.indexes:
        iname, _ = info.indexes.pop()
        return [migrations.RemoveIndex(model, iname)]
    if roll < 0.72:
        f = rng.choice(plain)
        cname = f"u{new_uid()}_{model}"[:30]
        if rng.random() < 0.5:
            info.constraints[cname] = f
            return [
                migrations.AddConstraint(
                    model, models.UniqueConstraint(fields=[f, "name"], name=cname)
                )
            ]
        info.constraints[cname] = None
        return [
            migrations.AddConstraint(
                model, models.CheckConstraint(condition=models.Q(name__gt=""), name=cname)
            )
        ]
    if roll < 0.75 and info.constraints:
        cname = list(info.constraints)[-1]
        del info.constraints[cname]
        return [migrations.RemoveConstraint(model, cname)]
    if roll < 0.78:
        fks = [f for f, k in info.fields.items() if k == "fk"]
        if fks and not info.unique_together:
            info.unique_together = True
            return [migrations.AlterUniqueTogether(model, {(fks[0], "name")})]
        return []
    if roll < 0.84:
        f = rng.choice(plain)
        if f in indexed:
            return []
        new = f"r{new_uid()}"
        info.fields[new] = info.fields.pop(f)
        return [migrations.RenameField(model, f, new)]
    if roll < 0.90:
        f = rng.choice(plain)
        if f in indexed:
            return []
        del info.fields[f]
        return [migrations.RemoveField(model, f)]
    if roll < 0.95:
        return [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
    if roll < 0.955 and not info.name.startswith(("Tenant", "Site")):
        # Renaming a model renames its table and re-points every foreign key to it.
        old = info.name
        info.name = f"{old.split('V')[0]}V{new_uid()}"
        return [migrations.RenameModel(old, info.name)]
    if roll < 0.985:
        return [
            migrations.RunSQL(
                f"COMMENT ON TABLE {info.app}_{model} IS 'step {new_uid()}'",  # the table of the model's current name
                migrations.RunSQL.noop,
            )
        ]
    return []
