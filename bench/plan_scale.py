"""How `dbgov plan --all` scales with the length of the migration history.

Generates a synthetic Django project shaped like a large real one (150 models in 6
apps, foreign keys and many-to-many relations among them) with N = 200, 400 and 800
migrations of mixed operations, then times, in the same run and on the same
PostgreSQL server:

- dbgov:    ``build_plan(selection="all")`` (one pass, shadow database), and
- baseline: ``call_command("sqlmigrate", app, name)`` for every migration, which is
            what django-migration-linter does (each call rebuilds the state).

Each side runs in its own subprocess; the peak memory printed is that process's
maximum resident set size. Targets: at N = 800 dbgov is >= 10x faster than the
baseline, and t(800) / t(400) <= 2.3 (linear growth).

    python bench/plan_scale.py [--sizes 200,400,800] [--models 150] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = 6


# -- generation (runs with minimal settings; writes files with Django's MigrationWriter) ---


def generate(target: Path, n_migrations: int, n_models: int, seed: int = 42) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(INSTALLED_APPS=[], USE_TZ=True)
        django.setup()
    from django.db import migrations, models
    from django.db.migrations.writer import MigrationWriter

    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    pkg = target / "benchproj"
    apps = [f"app{i}" for i in range(APPS)]
    for app in apps:
        (pkg / app / "migrations").mkdir(parents=True)
        (pkg / app / "__init__.py").write_text("")
        (pkg / app / "migrations" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")

    # model key -> {"fields": {name: kind}, "indexes": [names]}
    model_state: dict[tuple[str, str], dict] = {}
    last: dict[str, str] = {}
    counters = {app: 0 for app in apps}
    previous: tuple[str, str] | None = None
    creation_migrations = max(1, n_models // 3)
    model_names = [(apps[i % APPS], f"Model{i}") for i in range(n_models)]
    created = 0
    uid = 0

    def fk_target(exclude: tuple[str, str] | None = None) -> tuple[str, str] | None:
        choices = [k for k in model_state if k != exclude]
        return rng.choice(choices) if choices else None

    for number in range(n_migrations):
        ops: list = []
        if created < n_models and number < creation_migrations:
            app = model_names[created][0]
            for _ in range(3):
                if created >= n_models:
                    break
                m_app, name = model_names[created]
                if m_app != app:
                    break
                fields = [
                    ("id", models.BigAutoField(primary_key=True, serialize=False)),
                    ("name", models.CharField(max_length=100)),
                    ("value", models.IntegerField(default=0)),
                    ("created_at", models.DateTimeField(auto_now_add=True)),
                ]
                kinds = {"name": "char", "value": "int", "created_at": "dt"}
                for j in range(rng.choice([0, 1, 2, 2, 3])):
                    t = fk_target()
                    if t:
                        fields.append(
                            (
                                f"ref{j}",
                                models.ForeignKey(
                                    f"{t[0]}.{t[1]}",
                                    on_delete=models.CASCADE,
                                    null=True,
                                    related_name="+",
                                ),
                            )
                        )
                        kinds[f"ref{j}"] = "fk"
                if rng.random() < 0.3:
                    t = fk_target()
                    if t:
                        fields.append(
                            ("tags", models.ManyToManyField(f"{t[0]}.{t[1]}", related_name="+"))
                        )
                        kinds["tags"] = "m2m"
                ops.append(migrations.CreateModel(name=name, fields=fields))
                model_state[(app, name.lower())] = {"name": name, "fields": kinds, "indexes": []}
                created += 1
        else:
            key = rng.choice(list(model_state))
            app = key[0]
            info = model_state[key]
            for _ in range(rng.choice([1, 2, 3])):
                uid += 1
                roll = rng.random()
                plain = [
                    f
                    for f, k in info["fields"].items()
                    if k in ("char", "int") and f not in ("name", "value")
                ]
                if roll < 0.25 or not plain:
                    fname = f"f{uid}"
                    if rng.random() < 0.5:
                        ops.append(
                            migrations.AddField(key[1], fname, models.IntegerField(null=True))
                        )
                        info["fields"][fname] = "int"
                    else:
                        ops.append(
                            migrations.AddField(
                                key[1], fname, models.CharField(max_length=50, null=True)
                            )
                        )
                        info["fields"][fname] = "char"
                elif roll < 0.40:
                    t = fk_target(key)
                    if t:
                        fname = f"link{uid}"
                        ops.append(
                            migrations.AddField(
                                key[1],
                                fname,
                                models.ForeignKey(
                                    f"{t[0]}.{t[1]}",
                                    on_delete=models.SET_NULL,
                                    null=True,
                                    related_name="+",
                                ),
                            )
                        )
                        info["fields"][fname] = "fk"
                elif roll < 0.55:
                    f = rng.choice(plain)
                    field = (
                        models.CharField(max_length=rng.choice([80, 120, 200]), null=True)
                        if info["fields"][f] == "char"
                        else models.BigIntegerField(null=True)
                    )
                    ops.append(migrations.AlterField(key[1], f, field))
                elif roll < 0.70:
                    f = rng.choice(plain)
                    iname = f"i{uid}_{key[1]}"[:30]
                    ops.append(migrations.AddIndex(key[1], models.Index(fields=[f], name=iname)))
                    info["indexes"].append((iname, f))
                elif roll < 0.78 and info["indexes"]:
                    iname, _ = info["indexes"].pop()
                    ops.append(migrations.RemoveIndex(key[1], iname))
                elif roll < 0.88:
                    f = rng.choice(plain)
                    if any(f == idx_field for _, idx_field in info["indexes"]):
                        continue
                    new = f"r{uid}"
                    ops.append(migrations.RenameField(key[1], f, new))
                    info["fields"][new] = info["fields"].pop(f)
                else:
                    f = rng.choice(plain)
                    if any(f == idx_field for _, idx_field in info["indexes"]):
                        continue
                    ops.append(migrations.RemoveField(key[1], f))
                    del info["fields"][f]
            if not ops:
                fname = f"f{uid}"
                ops.append(migrations.AddField(key[1], fname, models.IntegerField(null=True)))
                info["fields"][fname] = "int"
        counters[app] += 1
        name = f"{counters[app]:04d}_step{number}"
        deps = []
        if app in last:
            deps.append((app, last[app]))
        if previous and previous[0] != app:
            deps.append(previous)
        migration = migrations.Migration(name, app)
        migration.dependencies = deps
        migration.operations = ops
        migration.initial = app not in last
        writer = MigrationWriter(migration, include_header=False)
        (pkg / app / "migrations" / f"{name}.py").write_text(
            writer.as_string().replace(
                "class Migration(migrations.Migration):\n",
                f'class Migration(migrations.Migration):\n    dbgov_task = "T-{number + 1:03d}"\n',
                1,
            )
        )
        last[app] = name
        previous = (app, name)

    (pkg / "settings.py").write_text(
        textwrap.dedent(
            f"""
            import os
            import dj_database_url
            SECRET_KEY = "bench"
            USE_TZ = True
            INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "pgtrigger", "dbgov",
                              {", ".join(repr("benchproj." + a) for a in apps)}]
            DATABASES = {{"default": dj_database_url.parse(os.environ["BENCH_DATABASE_URL"])}}
            DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
            BASE_DIR = {str(target)!r}
            """
        )
    )


# -- timed runs (each in a fresh subprocess) ------------------------------------------------

RUNNER = r"""
import io, json, os, resource, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
mode = sys.argv[1]
start = time.perf_counter()
failures = 0
if mode == "dbgov":
    from dbgov.analysis.engine import build_plan
    plan = build_plan(selection="all", run_rules=os.environ.get("BENCH_RULES", "1") == "1")
    count = len(plan.migrations)
    errors = sum(1 for m in plan.migrations for o in m.operations if o.error)
else:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    count = 0
    for migration, _ in plan:
        try:
            call_command("sqlmigrate", migration.app_label, migration.name, stdout=io.StringIO())
        except Exception:
            failures += 1
        count += 1
    errors = failures
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "migrations": count, "errors": errors,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(target: Path, mode: str, database_url: str) -> dict:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="benchproj.settings",
        BENCH_DATABASE_URL=database_url,
        PYTHONPATH=os.pathsep.join([str(target), str(ROOT)]),
    )
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, mode], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="200,400,800")
    parser.add_argument("--models", type=int, default=150)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dbgov_demo").rsplit(
        "/", 1
    )[0]
    url = f"{base}/dbgov_bench_plan"
    ensure_database(url)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    print(
        f"{'N':>5} {'dbgov s':>9} {'dbgov MB':>9} {'sqlmigrate s':>13} {'base MB':>8} {'speed-up':>9}"
    )
    for n in sizes:
        target = ROOT / "bench" / f"_generated_{n}"
        generate(target, n, args.models)
        ours = run(target, "dbgov", url)
        base_res = None if args.skip_baseline else run(target, "baseline", url)
        results[n] = (ours, base_res)
        speed = f"{base_res['seconds'] / ours['seconds']:.1f}x" if base_res else "-"
        print(
            f"{n:>5} {ours['seconds']:>9.2f} {ours['peak_mb']:>9.0f} "
            f"{(base_res or {}).get('seconds', float('nan')):>13.2f} {(base_res or {}).get('peak_mb', float('nan')):>8.0f} {speed:>9}"
            + (
                f"   (dbgov render errors: {ours['errors']}, baseline failures: {base_res['errors']})"
                if base_res
                else f"   (dbgov render errors: {ours['errors']})"
            )
        )
        shutil.rmtree(target, ignore_errors=True)
    if 400 in results and 800 in results:
        growth = results[800][0]["seconds"] / results[400][0]["seconds"]
        print(f"growth t(800)/t(400) = {growth:.2f} (target <= 2.3)")
    if 800 in results and results[800][1]:
        ratio = results[800][1]["seconds"] / results[800][0]["seconds"]
        print(f"speed-up at N=800 = {ratio:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
