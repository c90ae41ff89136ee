"""Volume generators: Python modules that stream rows into the target database.

A generator module (``fixtures/<env>/*.py``) defines::

    MODELS = ["auth.User", "shop.Order"]   # models it writes (ordering, reload)
    SEED = 42                              # default random seed (optional)
    OPTIONS = {"orders": 100_000}          # options and their defaults (optional)

    def generate(ctx: GeneratorContext) -> None:
        ids = ctx.reserve_ids("shop.Order", 10)
        ctx.write("shop.Order", ({"id": i, ...} for i in ids))

``ctx.write`` streams rows with PostgreSQL ``COPY … FROM STDIN`` (psycopg 3) on the
Django connection, inside the seed transaction; rows are consumed one at a time, so
an iterator of a million rows never sits in memory. Rows are written to the columns
the *target database* has: keys naming columns the table lacks are skipped (reported
once), and NOT NULL columns the rows leave out are filled from the model's default,
the default the field had at the migration state of the target database, a generated
fake value (personal data), or the load time (``auto_now`` fields).
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from django.apps import apps
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from faker import Faker

from . import pii
from .errors import SeedError

__all__ = ["GeneratorContext", "GeneratorModule", "load_generator", "resolve_options"]

PII_POOL_SIZE = 512


@dataclass
class GeneratorModule:
    path: Path
    display: str
    module: ModuleType
    models: list[type[models.Model]]
    seed: int
    defaults: dict[str, Any]

    @property
    def generate(self) -> Callable[[GeneratorContext], Any]:
        return self.module.generate  # type: ignore[no-any-return]


def load_generator(path: Path, display: str) -> GeneratorModule:
    """Import a generator module from ``path`` and validate its protocol."""
    name = "dbgov_seed_" + "".join(c if c.isalnum() else "_" for c in display)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SeedError(f"{display}: cannot import the generator module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the module's own code failed: name it, no traceback
        raise SeedError(
            f"{display}: importing the generator failed: {type(exc).__name__}: {exc}"
        ) from exc
    sys.modules.pop(name, None)
    generate = getattr(module, "generate", None)
    if not callable(generate):
        raise SeedError(f"{display}: a generator module must define generate(ctx)")
    labels = getattr(module, "MODELS", None)
    if not labels or not isinstance(labels, list | tuple):
        raise SeedError(f"{display}: a generator module must list the models it writes in MODELS")
    model_list = []
    for label in labels:
        try:
            model_list.append(apps.get_model(label))
        except (LookupError, ValueError):
            raise SeedError(f"{display}: MODELS names an unknown model {label!r}") from None
    defaults = dict(getattr(module, "OPTIONS", {}) or {})
    seed = getattr(module, "SEED", 0)
    return GeneratorModule(path, display, module, model_list, int(seed), defaults)


def _coerce(name: str, raw: Any, default: Any, display: str) -> Any:
    if not isinstance(raw, str) or isinstance(default, str) or default is None:
        return raw
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw.replace("_", ""))
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise SeedError(
            f"{display}: option {name}={raw!r} is not a {type(default).__name__}"
        ) from None
    return raw


def resolve_options(
    gen: GeneratorModule, overrides: dict[str, str], settings_options: dict[str, Any]
) -> dict[str, Any]:
    """The generator's OPTIONS overridden by settings, DBGOV_SEED_<NAME> and --option."""
    options = dict(gen.defaults)
    for key, default in gen.defaults.items():
        value: Any = default
        if key in settings_options:
            value = settings_options[key]
        env = os.environ.get(f"DBGOV_SEED_{key.upper()}")
        if env is not None:
            value = env
        if key in overrides:
            value = overrides[key]
        options[key] = _coerce(key, value, default, gen.display)
    return options


@dataclass
class _Column:
    name: str
    null_ok: bool
    has_db_default: bool


class GeneratorContext:
    """What a generator gets: deterministic randomness, options, and row writers."""

    def __init__(
        self,
        *,
        display: str,
        connection: BaseDatabaseWrapper,
        environment: str,
        options: dict[str, Any],
        seed: int,
        check_pii: bool,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.display = display
        self.connection = connection
        self.database = connection.alias
        self.environment = environment
        self.options = options
        self.seed = seed
        self.random = random.Random(seed)
        self.faker = Faker("en_US")
        self.faker.seed_instance(seed)
        self.check_pii = check_pii
        self._progress = progress
        self.rows = 0
        self.rows_by_model: dict[str, int] = {}
        self.row_keys: dict[str, list[Any]] = {}
        self._columns: dict[str, dict[str, _Column]] = {}
        self._next_id: dict[str, int] = {}
        self._historical: dict[tuple[str, str], dict[str, models.Field[Any, Any]]] | None = None
        self._warned: set[tuple[str, str]] = set()
        self.now = timezone.now()

    # -- introspection ---------------------------------------------------
    @staticmethod
    def model(label: str | type[models.Model]) -> type[models.Model]:
        return label if isinstance(label, type) else apps.get_model(label)

    def columns(self, label: str | type[models.Model]) -> list[str]:
        """The columns the target database's table of the model has (in table order)."""
        return list(self._table_columns(self.model(label)))

    def has_column(self, label: str | type[models.Model], column: str) -> bool:
        return column in self._table_columns(self.model(label))

    def _table_columns(self, model: type[models.Model]) -> dict[str, _Column]:
        table = model._meta.db_table
        if table not in self._columns:
            with self.connection.cursor() as cursor:
                if table not in self.connection.introspection.table_names(cursor):
                    raise SeedError(
                        f"{self.display}: table {table} ({model._meta.label}) does not exist "
                        f"in database {self.database!r}; migrate it first"
                    )
                desc = self.connection.introspection.get_table_description(cursor, table)
            self._columns[table] = {
                d.name: _Column(d.name, bool(d.null_ok), d.default is not None) for d in desc
            }
        return self._columns[table]

    def _historical_field(
        self, model: type[models.Model], column: str
    ) -> models.Field[Any, Any] | None:
        """The field behind ``column`` at the migration state of the target database."""
        if self._historical is None:
            loader = MigrationLoader(self.connection, ignore_no_migrations=True)
            applied = [n for n in loader.applied_migrations if n in loader.graph.nodes]
            state = loader.project_state(applied, at_end=True) if applied else None
            self._historical = {}
            if state is not None:
                for key, model_state in state.models.items():
                    by_column: dict[str, models.Field[Any, Any]] = {}
                    for name, field in model_state.fields.items():
                        col = field.db_column or (
                            f"{name}_id" if field.many_to_one or field.one_to_one else name
                        )
                        by_column[col] = field
                    self._historical[key] = by_column
        return self._historical.get((model._meta.app_label, model._meta.model_name or ""), {}).get(
            column
        )

    def pks(self, label: str | type[models.Model]) -> list[Any]:
        """Primary keys of the model's rows already in the target database."""
        model = self.model(label)
        return list(
            model._base_manager.using(self.database).order_by("pk").values_list("pk", flat=True)
        )

    def reserve_ids(self, label: str | type[models.Model], count: int) -> range:
        """``count`` fresh integer ids above every id in the table (and earlier reservations)."""
        model = self.model(label)
        key = model._meta.label_lower
        if key not in self._next_id:
            qn = self.connection.ops.quote_name
            with self.connection.cursor() as cursor:
                pk_column = qn(str(model._meta.pk.column))
                cursor.execute(
                    f"SELECT COALESCE(MAX({pk_column}), 0) FROM {qn(model._meta.db_table)}"
                )
                self._next_id[key] = int(cursor.fetchone()[0]) + 1
        start = self._next_id[key]
        self._next_id[key] = start + count
        return range(start, start + count)

    def log(self, message: str) -> None:
        if self._progress:
            self._progress(f"{self.display}: {message}")

    # -- writing ---------------------------------------------------------
    def write(
        self,
        label: str | type[models.Model],
        rows: Iterable[dict[str, Any]],
        *,
        method: str = "copy",
        batch_size: int = 5000,
    ) -> int:
        """Stream ``rows`` (dicts keyed by field name, attname or column) into the table.

        ``method="copy"`` uses COPY FROM STDIN; ``"insert"`` batched multi-row
        INSERTs (``batch_size`` rows per statement). Every row must have the keys of
        the first row. Returns the number of rows written.
        """
        if method not in {"copy", "insert"}:
            raise SeedError(f"{self.display}: unknown write method {method!r}")
        model = self.model(label)
        iterator = iter(rows)
        try:
            first = next(iterator)
        except StopIteration:
            return 0
        except SeedError:
            raise
        except Exception as exc:
            raise self._generator_error(model, exc) from exc
        keys, columns, fillers = self._plan_columns(model, first)
        pk_col = model._meta.pk.column
        pk_index = columns.index(pk_col) if pk_col in columns else None
        pii_checks = self._pii_checks(model, keys, columns) if self.check_pii else []
        label_lower = model._meta.label_lower
        ranges = self.row_keys.setdefault(label_lower, [])
        qn = self.connection.ops.quote_name
        column_sql = ", ".join(qn(c) for c in columns)
        table = qn(model._meta.db_table)
        count = 0

        def values_of(row: dict[str, Any]) -> list[Any]:
            values = [row.get(k) for k in keys]
            values.extend(f() for f in fillers)
            return values

        def track(values: list[Any]) -> None:
            if pk_index is None:
                return
            pk = values[pk_index]
            if (
                isinstance(pk, int)
                and ranges
                and isinstance(ranges[-1], list)
                and ranges[-1][1] == pk - 1
            ):
                ranges[-1][1] = pk
            else:
                ranges.append([pk, pk] if isinstance(pk, int) else pk)

        def checked(values: list[Any], index: int) -> list[Any]:
            for position, field in pii_checks:
                reason = pii.looks_real(field, values[position])
                if reason:
                    raise SeedError(
                        f"{self.display}: row {index + 1} of {model._meta.label} field "
                        f"{field.name}: {reason}"
                    )
            return values

        def all_rows() -> Iterator[dict[str, Any]]:
            yield first
            yield from iterator

        try:
            with self.connection.cursor() as wrapper:
                cursor = wrapper.cursor  # the psycopg cursor under Django's wrapper
                if method == "copy":
                    with cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                        for row in all_rows():
                            values = (
                                checked(values_of(row), count) if pii_checks else values_of(row)
                            )
                            copy.write_row(values)
                            track(values)
                            count += 1
                else:
                    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
                    batch: list[Any] = []
                    for row in all_rows():
                        values = checked(values_of(row), count) if pii_checks else values_of(row)
                        batch.append(values)
                        track(values)
                        count += 1
                        if len(batch) >= batch_size:
                            self._insert(cursor, table, column_sql, placeholders, batch)
                            batch = []
                    if batch:
                        self._insert(cursor, table, column_sql, placeholders, batch)
        except SeedError:
            raise
        except Exception as exc:
            raise self._generator_error(model, exc, row=count + 1) from exc
        self.rows += count
        self.rows_by_model[label_lower] = self.rows_by_model.get(label_lower, 0) + count
        return count

    @staticmethod
    def _insert(
        cursor: Any, table: str, column_sql: str, placeholders: str, batch: list[Any]
    ) -> None:
        sql = f"INSERT INTO {table} ({column_sql}) VALUES " + ", ".join([placeholders] * len(batch))
        cursor.execute(sql, [v for values in batch for v in values])

    def _generator_error(
        self, model: type[models.Model], exc: BaseException, row: int | None = None
    ) -> SeedError:
        where = f" at row {row}" if row else ""
        origin = ""
        tb = exc.__traceback__
        while tb is not None:  # the innermost frame in the generator module itself
            if os.path.realpath(tb.tb_frame.f_code.co_filename).endswith(self.display):
                origin = f" (line {tb.tb_lineno})"
            tb = tb.tb_next
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return SeedError(
            f"{self.display}: writing {model._meta.label}{where} failed{origin}: "
            f"{type(exc).__name__}: {message}"
        )

    def _plan_columns(
        self, model: type[models.Model], first: dict[str, Any]
    ) -> tuple[list[str], list[str], list[Callable[[], Any]]]:
        table_cols = self._table_columns(model)
        by_column = {f.column: f for f in model._meta.concrete_fields}
        keys: list[str] = []
        columns: list[str] = []
        for key in first:
            column = key if key in table_cols else None
            if column is None:
                try:
                    field = model._meta.get_field(key)
                except Exception:
                    field = None
                column = getattr(field, "column", None)
                if column is None:
                    raise SeedError(
                        f"{self.display}: {model._meta.label} has no field or column {key!r}"
                    )
                if column not in table_cols:
                    self._warn_once(model, column, "is not in the target table; skipped")
                    continue
            keys.append(key)
            columns.append(column)
        fillers: list[Callable[[], Any]] = []
        for name, col in table_cols.items():
            if name in columns:
                continue
            field = by_column.get(name)
            filler = self._filler(model, col, field)
            if filler is not None:
                columns.append(name)
                fillers.append(filler)
        return keys, columns, fillers

    def _filler(
        self, model: type[models.Model], col: _Column, field: models.Field[Any, Any] | None
    ) -> Callable[[], Any] | None:
        if col.has_db_default:  # serial/identity ids, DB defaults
            return None
        if field is not None and pii.is_pii_field(field):
            pool = self._pii_pool(model, field)
            choice = self.random.choice
            return lambda: choice(pool)
        if field is not None and field.has_default():
            value = field.get_default()
            return lambda: value
        if field is not None and (
            getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        ):
            now = self.now
            return lambda: now
        if col.null_ok:
            return None
        historical = self._historical_field(model, col.name)
        if historical is not None and historical.has_default():
            value = historical.get_default()
            return lambda: value
        raise SeedError(
            f"{self.display}: column {model._meta.db_table}.{col.name} of database "
            f"{self.database!r} is NOT NULL without a default and the rows give no value"
        )

    def _pii_pool(self, model: type[models.Model], field: models.Field[Any, Any]) -> list[Any]:
        faker = Faker("en_US")
        faker.seed_instance(pii.stable_seed(self.seed, model._meta.label_lower, field.name))
        return [pii.fake_value(field, faker) for _ in range(PII_POOL_SIZE)]

    def _pii_checks(
        self, model: type[models.Model], keys: list[str], columns: list[str]
    ) -> list[tuple[int, models.Field[Any, Any]]]:
        flagged = {f.column: f for f in pii.pii_fields(model).values()}
        return [(i, flagged[c]) for i, c in enumerate(columns[: len(keys)]) if c in flagged]

    def _warn_once(self, model: type[models.Model], column: str, message: str) -> None:
        if (model._meta.label, column) not in self._warned:
            self._warned.add((model._meta.label, column))
            self.log(f"{model._meta.db_table}.{column} {message}")
