"""Seeding an environment: discover, order by foreign keys, load all or nothing, record.

``seed()`` is the service behind ``manage.py dbgov seed``; ``seed_status()`` behind
``--status``. Semantics (docs/seeds.md):

- A file whose sha256 (for a generator: of its source, options and random seed) equals
  the one recorded for the same environment, database and path is skipped.
- A changed fixture is reloaded: objects are saved by primary key, or by natural key
  when they have no ``pk`` (an UPDATE of the existing row, never a second row); rows
  the previous load of that file wrote that no current seed file claims any more are
  deleted (Django's delete rules apply: CASCADE follows, PROTECT refuses the run).
- A changed generator first deletes the rows it wrote last time (the primary-key
  ranges recorded in its SeedLoad), then generates anew.
- Everything happens in one transaction on the target database (the SeedLoad records
  in a transaction on the records database, committed right after): an error anywhere
  leaves both as they were.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.color import no_style
from django.db import (
    DatabaseError,
    IntegrityError,
    connections,
    models,
    router,
    transaction,
)
from django.db.models import ProtectedError, Q, RestrictedError
from django.db.models.deletion import Collector
from django.utils import timezone

from dbgov.conf import dbgov_settings
from dbgov.models import SeedLoad

from . import fixtures as fx
from .discovery import SeedFile, discover, environments, seed_roots
from .errors import SeedError
from .generators import GeneratorContext, GeneratorModule, load_generator, resolve_options

__all__ = [
    "PRODUCTION_ENVIRONMENTS",
    "FileResult",
    "SeedReport",
    "StatusEntry",
    "seed",
    "seed_status",
]

PRODUCTION_ENVIRONMENTS = frozenset({"production", "prod"})

Progress = Callable[[str], None]


@dataclass
class FileResult:
    path: str
    kind: str
    action: str  # loaded | reloaded | skipped
    sha256: str
    rows: int = 0
    removed: int = 0
    duration_ms: float = 0.0
    models: dict[str, int] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SeedReport:
    environment: str
    database: str
    dry_run: bool
    files: list[FileResult]
    order: list[str]
    duration_ms: float = 0.0

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.action != "skipped")

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "database": self.database,
            "dry_run": self.dry_run,
            "order": self.order,
            "rows": self.rows,
            "duration_ms": round(self.duration_ms, 1),
            "files": [f.as_dict() for f in self.files],
        }


@dataclass
class StatusEntry:
    environment: str
    path: str
    kind: str
    state: str  # loaded | changed | not loaded | missing | error
    database: str | None = None
    loaded_at: str | None = None
    rows: int | None = None
    sha256: str | None = None
    current_sha256: str | None = None
    detail: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # a generator's, as loaded

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- helpers ---------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _generator_sha(file: SeedFile, options: dict[str, Any], seed: int) -> str:
    extra = json.dumps({"options": options, "seed": seed}, sort_keys=True, default=str)
    return _sha256(file.path.read_bytes() + b"\0" + extra.encode())


def compress_keys(pks: Iterable[Any]) -> list[Any]:
    """Integer keys as [first, last] ranges, others as themselves (sorted, unique)."""
    ints = sorted({p for p in pks if isinstance(p, int)})
    others = sorted({p for p in pks if not isinstance(p, int)}, key=str)
    out: list[Any] = []
    for p in ints:
        if out and out[-1][1] == p - 1:
            out[-1][1] = p
        else:
            out.append([p, p])
    return out + others


def _keys_q(entries: list[Any]) -> Q:
    q = Q(pk__in=[e for e in entries if not isinstance(e, list)])
    for entry in entries:
        if isinstance(entry, list):
            q |= Q(pk__range=(entry[0], entry[1]))
    return q


def _expand(entries: list[Any]) -> set[Any]:
    out: set[Any] = set()
    for entry in entries:
        if isinstance(entry, list):
            out.update(range(entry[0], entry[1] + 1))
        else:
            out.add(entry)
    return out


def _claims(entries: list[Any], pk: Any) -> bool:
    return any(
        (e[0] <= pk <= e[1]) if isinstance(e, list) and isinstance(pk, int) else e == pk
        for e in entries
    )


def _dependencies(model: type[models.Model]) -> set[str]:
    deps = set()
    for f in model._meta.get_fields():
        if (f.many_to_one or f.one_to_one or f.many_to_many) and f.concrete and f.related_model:
            related = f.related_model
            if isinstance(related, type):
                deps.add(related._meta.label_lower)
        if f.many_to_many and f.concrete:
            through = f.remote_field.through  # type: ignore[union-attr]
            if (
                isinstance(through, type)
                and issubclass(through, models.Model)
                and not through._meta.auto_created
            ):
                deps.add(through._meta.label_lower)
    deps.discard(model._meta.label_lower)
    return deps


@dataclass
class _Node:
    name: str
    provides: set[str]
    requires: set[str]
    model: type[models.Model] | None = None
    generator: GeneratorModule | None = None
    file: SeedFile | None = None


def _topological(nodes: list[_Node]) -> list[_Node]:
    """Kahn's algorithm; ties by name; a cycle is broken at its smallest node (the
    foreign keys are DEFERRABLE INITIALLY DEFERRED, and forward references resolve at
    the end)."""
    providers: dict[str, set[str]] = {}
    for n in nodes:
        for label in n.provides:
            providers.setdefault(label, set()).add(n.name)
    edges = {
        n.name: {p for label in n.requires for p in providers.get(label, ()) if p != n.name}
        for n in nodes
    }
    by_name = {n.name: n for n in nodes}
    done: list[_Node] = []
    remaining = set(by_name)
    while remaining:
        ready = sorted(name for name in remaining if not (edges[name] & remaining))
        pick = ready[0] if ready else min(remaining)
        done.append(by_name[pick])
        remaining.discard(pick)
    return done


# -- the run ---------------------------------------------------------------------


def resolve_environment(environment: str | None) -> str:
    env = (environment or dbgov_settings.ENVIRONMENT or "").strip()
    if not env or "/" in env or env.startswith("."):
        raise SeedError(f"invalid environment {env!r}")
    return env


def seed(
    environment: str | None = None,
    *,
    database: str = "default",
    dry_run: bool = False,
    confirm: bool = False,
    force: bool = False,
    options: dict[str, str] | None = None,
    random_seed: int | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Load ``environment``'s seeds into ``database``, all or nothing (see module doc)."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    env = resolve_environment(environment)
    if env in PRODUCTION_ENVIRONMENTS:
        if not dbgov_settings.ALLOW_PRODUCTION_SEED:
            raise SeedError(
                f"refusing to seed {env!r}: production seeding is off "
                "(set DBGOV['ALLOW_PRODUCTION_SEED'] = True and pass --yes)"
            )
        if not confirm:
            raise SeedError(f"refusing to seed {env!r} without --yes")
    if database not in connections:
        raise SeedError(f"unknown database alias {database!r}")
    production = env in PRODUCTION_ENVIRONMENTS
    files = discover(env)
    if not files:
        roots = ", ".join(str(r / env) for r in seed_roots()[:3])
        say(f"no seed files for environment {env!r} (looked in {roots}, …)")
    records_db = router.db_for_write(SeedLoad)
    latest = _latest_records(env, database, records_db)

    # 1. What changed: hash every file, import generators, parse changed fixtures.
    results: dict[str, FileResult] = {}
    parsed: list[fx.ParsedFixture] = []
    generators: list[tuple[SeedFile, GeneratorModule, dict[str, Any], int]] = []
    for file in files:
        previous = latest.get(file.display)
        if file.kind == "generator":
            gen = load_generator(file.path, file.display)
            opts = resolve_options(gen, options or {}, dbgov_settings.SEED_GENERATOR_OPTIONS)
            gseed = gen.seed if random_seed is None else random_seed
            sha = _generator_sha(file, opts, gseed)
        else:
            sha = _sha256(file.path.read_bytes())
        if previous is not None and previous.sha256 == sha and not force:
            results[file.display] = FileResult(
                file.display, file.kind, "skipped", sha, rows=previous.rows
            )
            continue
        action = "reloaded" if previous is not None else "loaded"
        result = FileResult(file.display, file.kind, action, sha)
        results[file.display] = result
        if file.kind == "generator":
            result.options = {"seed": gseed, **opts}
            generators.append((file, gen, opts, gseed))
        else:
            p = fx.parse_fixture(file)
            if (
                not production
                and not dbgov_settings.SEED_ALLOW_REAL_PII
                and not fx.pii_allowed(file)
            ):
                fx.check_pii(p)
            fx.fill_pii(p)
            parsed.append(p)

    # 2. Order: one node per model of the fixtures, one per generator.
    nodes: list[_Node] = []
    fixture_models: dict[str, type[models.Model]] = {}
    for p in parsed:
        for obj in p.objects:
            fixture_models.setdefault(obj.label, obj.model)
    for label, model in fixture_models.items():
        nodes.append(_Node(f"model:{label}", {label}, _dependencies(model), model=model))
    for file, gen, _opts, _seed in generators:
        provides = {m._meta.label_lower for m in gen.models}
        requires = set().union(*(_dependencies(m) for m in gen.models)) - provides
        nodes.append(
            _Node(f"generator:{file.display}", provides, requires, generator=gen, file=file)
        )
    order = _topological(nodes)
    report = SeedReport(env, database, dry_run, list(results.values()), [n.name for n in order])
    if not order:
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report
    say("order: " + " → ".join(n.name.split(":", 1)[1] for n in order))

    # 3. Load, all or nothing.
    connection = connections[database]
    with ExitStack() as stack:
        stack.enter_context(transaction.atomic(using=records_db))
        if database != records_db:
            stack.enter_context(transaction.atomic(using=database))
        loader = _Loader(env, database, production, results, latest, say)
        loader.plan(order)
        loader.delete_previous_generated(generators, order)
        for node in order:
            if node.model is not None:
                loader.load_model(node.model, parsed)
            elif node.generator is not None and node.file is not None:
                opts = next(o for f, _g, o, _s in generators if f is node.file)
                gseed = next(s for f, _g, _o, s in generators if f is node.file)
                loader.run_generator(node.file, node.generator, opts, gseed)
        loader.finish(parsed, order)
        loader.reset_sequences(connection)
        loader.check_constraints(connection)
        now = timezone.now()
        SeedLoad.objects.using(records_db).bulk_create(
            [
                SeedLoad(
                    environment=env,
                    database=database,
                    path=r.path,
                    kind=r.kind,
                    sha256=r.sha256,
                    rows=r.rows,
                    duration_ms=round(r.duration_ms, 3),
                    options=r.options,
                    row_keys=loader.row_keys.get(r.path, {}),
                    loaded_at=now,
                )
                for r in results.values()
                if r.action != "skipped"
            ]
        )
        if dry_run:
            transaction.set_rollback(True, using=records_db)
            if database != records_db:
                transaction.set_rollback(True, using=database)
    report.duration_ms = (time.perf_counter() - started) * 1000
    return report


def _latest_records(env: str, database: str | None, records_db: str) -> dict[str, SeedLoad]:
    qs = SeedLoad.objects.using(records_db).filter(environment=env)
    if database is not None:
        qs = qs.filter(database=database)
    latest: dict[str, SeedLoad] = {}
    for record in qs.order_by("path", "database", "-loaded_at", "-id"):
        latest.setdefault(
            record.path if database is not None else f"{record.database}\0{record.path}", record
        )
    return latest


class _Loader:
    def __init__(
        self,
        env: str,
        database: str,
        production: bool,
        results: dict[str, FileResult],
        latest: dict[str, SeedLoad],
        say: Progress,
    ) -> None:
        self.env = env
        self.database = database
        self.production = production
        self.results = results
        self.latest = latest
        self.say = say
        self.saved: list[fx.FixtureObject] = []
        self.deferred: list[fx.FixtureObject] = []
        self.row_keys: dict[str, dict[str, list[Any]]] = {}
        self.written: set[type[models.Model]] = set()
        self.tables: dict[str, set[str]] = {}  # table -> files that wrote it
        self.cyclic: set[type[models.Model]] = set()  # models that may reference forward

    def plan(self, order: list[_Node]) -> None:
        """Models whose references may point forward: self references, cycles."""
        position: dict[str, int] = {}
        for i, node in enumerate(order):
            for label in node.provides:
                position.setdefault(label, i)
        for i, node in enumerate(order):
            if node.model is not None and any(
                position.get(d, -1) >= i
                for d in node.requires | {label for label in _self_references(node.model)}
            ):
                self.cyclic.add(node.model)

    def _wrote(self, file: SeedFile, model: type[models.Model]) -> None:
        self.written.add(model)
        self.tables.setdefault(model._meta.db_table, set()).add(file.display)

    def delete_previous_generated(
        self,
        generators: list[tuple[SeedFile, GeneratorModule, dict[str, Any], int]],
        order: list[_Node],
    ) -> None:
        for file, gen, _o, _s in generators:
            previous = self.latest.get(file.display)
            if previous is None:
                continue
            labels = [
                m
                for m in reversed(_model_order(gen.models))
                if m._meta.label_lower in previous.row_keys
            ]
            removed = 0
            for model in labels:
                entries = previous.row_keys[model._meta.label_lower]
                removed += self._raw_delete(file, model, entries)
            self.results[file.display].removed = removed
            if removed:
                self.say(f"{file.display}: deleted {removed} rows of its previous load")

    def _raw_delete(self, file: SeedFile, model: type[models.Model], entries: list[Any]) -> int:
        qs = model._base_manager.using(self.database).filter(_keys_q(entries))
        try:
            return int(qs._raw_delete(self.database))  # type: ignore[attr-defined]
        except DatabaseError as exc:
            raise SeedError(
                f"{file.display}: deleting the rows of its previous load from "
                f"{model._meta.db_table} failed: {_first_line(exc)}"
            ) from None

    def load_model(self, model: type[models.Model], parsed: list[fx.ParsedFixture]) -> None:
        for p in parsed:
            objs = [o for o in p.objects if o.model is model]
            if not objs:
                continue
            started = time.perf_counter()
            result = self.results[p.file.display]
            for obj, deserialized in fx.deserialize(objs, self.database, model in self.cyclic):
                self._fill_auto_now(deserialized.object)
                try:
                    deserialized.save(using=self.database)
                except (DatabaseError, ValueError, TypeError) as exc:
                    raise SeedError(
                        f"{p.file.display}: {obj.describe()}: {_first_line(exc)}"
                    ) from None
                obj.saved = deserialized
                self.saved.append(obj)
                if deserialized.deferred_fields:
                    self.deferred.append(obj)
                result.rows += 1
                result.models[obj.label] = result.models.get(obj.label, 0) + 1
            self._wrote(p.file, model)
            result.duration_ms += (time.perf_counter() - started) * 1000

    def _fill_auto_now(self, instance: models.Model) -> None:
        """auto_now(_add) fields a fixture leaves out: load time, or the existing value."""
        names = [
            f.attname
            for f in instance._meta.concrete_fields
            if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
            and getattr(instance, f.attname) is None
        ]
        if not names:
            return
        existing = None
        if instance.pk is not None:
            existing = (
                type(instance)
                ._base_manager.using(self.database)
                .filter(pk=instance.pk)
                .values(*names)
                .first()
            )
        now = timezone.now()
        for f in instance._meta.concrete_fields:
            if f.attname not in names:
                continue
            keep = existing is not None and getattr(f, "auto_now_add", False)
            setattr(instance, f.attname, existing[f.attname] if keep and existing else now)

    def run_generator(
        self, file: SeedFile, gen: GeneratorModule, opts: dict[str, Any], gseed: int
    ) -> None:
        result = self.results[file.display]
        ctx = GeneratorContext(
            display=file.display,
            connection=connections[self.database],
            environment=self.env,
            options=opts,
            seed=gseed,
            check_pii=not self.production and not dbgov_settings.SEED_ALLOW_REAL_PII,
            progress=self.say,
        )
        self.say(f"{file.display}: generating (seed {gseed}, options {opts})")
        started = time.perf_counter()
        try:
            gen.generate(ctx)
        except SeedError:
            raise
        except Exception as exc:
            line = ""
            for frame in traceback.extract_tb(exc.__traceback__):
                if frame.filename == str(file.path):
                    line = f" (line {frame.lineno})"
            raise SeedError(
                f"{file.display}: generate() raised {type(exc).__name__}{line}: {_first_line(exc)}"
            ) from None
        result.duration_ms = (time.perf_counter() - started) * 1000
        result.rows = ctx.rows
        result.models = dict(ctx.rows_by_model)
        self.row_keys[file.display] = {k: v for k, v in ctx.row_keys.items() if v}
        for model in gen.models:
            self._wrote(file, model)
        self.say(f"{file.display}: {ctx.rows} rows in {result.duration_ms / 1000:.1f}s")

    def finish(self, parsed: list[fx.ParsedFixture], order: list[_Node]) -> None:
        # Forward references (cycles, self references by natural key).
        for obj in self.deferred:
            try:
                obj.saved.save_deferred_fields(using=self.database)
            except ObjectDoesNotExist as exc:
                raise SeedError(
                    f"{obj.file.display}: {obj.describe()}: a reference to a missing row: {_first_line(exc)}"
                ) from None
        self._check_references()
        # Keys each fixture now holds.
        for p in parsed:
            keys: dict[str, set[Any]] = {}
            for obj in p.objects:
                keys.setdefault(obj.label, set()).add(obj.saved.object.pk)
            self.row_keys[p.file.display] = {k: compress_keys(v) for k, v in keys.items()}
        self._remove_dropped_rows(parsed, order)

    def _check_references(self) -> None:
        """Every foreign key a fixture sets must name a row that exists now."""
        wanted: dict[tuple[type[models.Model], str], dict[Any, tuple[fx.FixtureObject, str]]] = {}
        for obj in self.saved:
            for f in obj.model._meta.concrete_fields:
                if not f.is_relation or f.related_model is None:
                    continue
                value = getattr(obj.saved.object, f.attname)
                if value is None:
                    continue
                target = f.related_model
                to_field = str(f.remote_field.field_name)  # type: ignore[union-attr]
                assert isinstance(target, type)
                wanted.setdefault((target, to_field), {}).setdefault(value, (obj, f.name))
        for (target, to_field), refs in wanted.items():
            found = set(
                target._base_manager.using(self.database)
                .filter(**{f"{to_field}__in": list(refs)})
                .values_list(to_field, flat=True)
            )
            for value, (obj, fname) in refs.items():
                if value not in found:
                    raise SeedError(
                        f"{obj.file.display}: {obj.describe()} field {fname}: a reference to a "
                        f"missing row: {target._meta.label_lower} with {to_field}={value!r} is "
                        "neither in the database nor in the seeds"
                    )

    def _remove_dropped_rows(self, parsed: list[fx.ParsedFixture], order: list[_Node]) -> None:
        """Rows an earlier load of a reloaded file wrote that no seed file claims now."""
        claimed: dict[str, list[Any]] = {}  # entries ([first, last] ranges or values)
        for keys in self.row_keys.values():
            for label, entries in keys.items():
                claimed.setdefault(label, []).extend(entries)
        for path, record in self.latest.items():
            if self.results.get(path) is not None and self.results[path].action == "skipped":
                for label, entries in record.row_keys.items():
                    claimed.setdefault(label, []).extend(entries)
        for p in parsed:
            previous = self.latest.get(p.file.display)
            if previous is None or previous.kind != SeedLoad.Kind.FIXTURE:
                continue
            labels = list(previous.row_keys)
            models_ = [apps.get_model(label) for label in labels if _model_exists(label)]
            for model in reversed(_model_order(models_)):
                label = model._meta.label_lower
                gone = {
                    pk
                    for pk in _expand(previous.row_keys[label])
                    if not _claims(claimed.get(label, []), pk)
                }
                if not gone:
                    continue
                qs = model._base_manager.using(self.database).filter(pk__in=gone)
                try:
                    self._refuse_claimed_cascades(p.file, qs, claimed)
                    count, _ = qs.delete()
                except (ProtectedError, RestrictedError) as exc:
                    raise SeedError(
                        f"{p.file.display}: rows of {label} removed from the file cannot be "
                        f"deleted: {_first_line(exc)}"
                    ) from None
                self.results[p.file.display].removed += count
                if count:
                    self.say(
                        f"{p.file.display}: deleted {count} rows no longer in the file ({label})"
                    )

    def _refuse_claimed_cascades(
        self, file: SeedFile, qs: models.QuerySet[Any], claimed: dict[str, list[Any]]
    ) -> None:
        """Deleting a row removed from ``file`` must not cascade into rows that a seed
        file still holds (that file would be recorded as loaded with rows missing)."""
        collector = Collector(using=self.database, origin=qs)
        collector.collect(qs)
        doomed: list[tuple[str, Any]] = []
        for model, instances in collector.data.items():
            doomed.extend((model._meta.label_lower, obj.pk) for obj in instances)
        for fast in collector.fast_deletes:
            label = fast.model._meta.label_lower
            doomed.extend((label, pk) for pk in fast.values_list("pk", flat=True))
        for label, pk in doomed:
            if label != qs.model._meta.label_lower and _claims(claimed.get(label, []), pk):
                raise SeedError(
                    f"{file.display}: removing rows of {qs.model._meta.label_lower} from the "
                    f"file would delete {label} pk={pk}, which a seed file still holds; remove "
                    "that row from its file too"
                )

    def reset_sequences(self, connection: Any) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), sorted(self.written, key=str))
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    def check_constraints(self, connection: Any) -> None:
        tables = sorted(self.tables)
        try:
            connection.check_constraints(table_names=tables)
        except IntegrityError as exc:
            files = sorted({f for t in tables if t in str(exc) for f in self.tables[t]}) or sorted(
                {f for fs in self.tables.values() for f in fs}
            )
            raise SeedError(
                f"{', '.join(files)}: a constraint fails at the end of the load: "
                f"{' '.join(str(exc).split())}"
            ) from None


def _self_references(model: type[models.Model]) -> set[str]:
    label = model._meta.label_lower
    return {
        label
        for f in model._meta.get_fields()
        if f.concrete and f.is_relation and f.related_model is model
    }


def _model_exists(label: str) -> bool:
    try:
        apps.get_model(label)
    except (LookupError, ValueError):
        return False
    return True


def _model_order(model_list: Iterable[type[models.Model]]) -> list[type[models.Model]]:
    nodes = [
        _Node(m._meta.label_lower, {m._meta.label_lower}, _dependencies(m), model=m)
        for m in model_list
    ]
    return [n.model for n in _topological(nodes) if n.model is not None]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- status ----------------------------------------------------------------------


def seed_status(environment: str | None = None, database: str | None = None) -> list[StatusEntry]:
    """Per environment: each seed file, whether/when/where it is loaded, and whether it
    changed since."""
    records_db = router.db_for_write(SeedLoad)
    envs = (
        [resolve_environment(environment)]
        if environment
        else sorted(
            set(environments())
            | set(
                SeedLoad.objects.using(records_db).values_list("environment", flat=True).distinct()
            )
        )
    )
    entries: list[StatusEntry] = []
    for env in envs:
        files = {f.display: f for f in discover(env)}
        latest = _latest_records(env, None, records_db)
        by_path: dict[str, list[SeedLoad]] = {}
        for record in latest.values():
            if database is None or record.database == database:
                by_path.setdefault(record.path, []).append(record)
        for path in sorted(set(files) | set(by_path)):
            file = files.get(path)
            records = sorted(by_path.get(path, []), key=lambda r: r.database)
            if not records:
                current, detail = _safe_sha(file, None) if file else (None, "")
                entries.append(
                    StatusEntry(
                        env,
                        path,
                        file.kind if file else "?",
                        "error" if detail else "not loaded",
                        database,
                        current_sha256=current,
                        detail=detail,
                    )
                )
                continue
            for record in records:
                current, detail = _safe_sha(file, record.options) if file else (None, "")
                if file is None:
                    state = "missing"
                elif detail:
                    state = "error"
                else:
                    state = "loaded" if current == record.sha256 else "changed"
                entries.append(
                    StatusEntry(
                        env,
                        path,
                        record.kind,
                        state,
                        record.database,
                        record.loaded_at.isoformat(timespec="seconds"),
                        record.rows,
                        record.sha256,
                        current,
                        detail,
                        record.options,
                    )
                )
    return entries


def _safe_sha(file: SeedFile, loaded_options: dict[str, Any] | None) -> tuple[str | None, str]:
    try:
        return _current_sha(file, loaded_options), ""
    except SeedError as exc:
        return None, str(exc)


def _current_sha(file: SeedFile, loaded_options: dict[str, Any] | None) -> str:
    """The file's sha256 now; for a generator, with the options it was loaded with (so
    that "changed" means its code changed, not that it ran with --option)."""
    if file.kind == "generator":
        gen = load_generator(file.path, file.display)
        if loaded_options:
            opts = {k: v for k, v in loaded_options.items() if k != "seed"}
            return _generator_sha(file, opts, int(loaded_options.get("seed", gen.seed)))
        opts = resolve_options(gen, {}, dbgov_settings.SEED_GENERATOR_OPTIONS)
        return _generator_sha(file, opts, gen.seed)
    return _sha256(file.path.read_bytes())
