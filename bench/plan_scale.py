"""How `dbgov plan` scales: the whole history, pending migrations, cold and warm, tiny projects.

Generates projects shaped like large real ones (bench/synthetic_project.py: hub models
referenced by dozens of others, several FKs and M2Ms per model, custom fields) and
times, in the same run, on the same PostgreSQL server, each side in its own process
(wall time of the whole process, so start-up counts on both sides; peak RSS printed):

- ``--all`` at N = 200, 400, 800 migrations: ``dbgov plan --all`` against one
  ``sqlmigrate`` per migration (what django-migration-linter does).
  Target: >= 30x at N = 800, linear growth (t(800) / t(400) <= 2.3).
- pending, on the N = 800 project with the target at 600 (then 790) applied: dbgov
  *cold* (a new sandbox folder: the embedded cluster is created, the target's schema
  read, nothing cached) and *warm* (the same again) against ``sqlmigrate`` of the
  pending migrations. Targets: cold 600+200 >= 10x, cold 790+10 >= 3x, warm within
  1.5 s of ``manage.py check``.
- tiny (10 migrations, all pending): dbgov with the sandbox running, and with it
  starting from nothing, against ``sqlmigrate`` of the 10. Targets: no slower with
  the sandbox running; within 2 s when it has to start.

The target database of the pending cases is brought to its applied state with the SQL
dbgov rendered for ``--all`` (the statements `migrate` would run) and its
django_migrations rows: the same schema `migrate` makes, without the hours it takes.

    python bench/plan_scale.py [--sizes 200,400,800] [--models 150] [--repeat 3] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_project import generate  # noqa: E402

RUNNER = r"""
import io, json, os, resource, sys, time
started = time.perf_counter()
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
mode = sys.argv[1]
out = {}
if mode == "all":
    from dbgov.analysis.engine import build_plan
    plan = build_plan(selection="all")
    out = {"migrations": len(plan.migrations), "cache_hits": plan.cache_hits,
           "errors": sum(1 for m in plan.migrations for o in m.operations if o.error)}
    if plan.render_stats is not None:
        out["stats"] = vars(plan.render_stats)
elif mode == "pending":
    from dbgov.analysis.engine import build_plan
    plan = build_plan()
    out = {"migrations": len(plan.migrations), "cache_hits": plan.cache_hits,
           "errors": sum(1 for m in plan.migrations for o in m.operations if o.error)}
    if plan.render_stats is not None:
        out["stats"] = vars(plan.render_stats)
elif mode in ("sqlmigrate-all", "sqlmigrate-pending"):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    todo = [m for m, _ in executor.migration_plan(leaves, clean_start=mode == "sqlmigrate-all")]
    failures = 0
    for migration in todo:
        try:
            call_command("sqlmigrate", migration.app_label, migration.name, stdout=io.StringIO())
        except Exception:
            failures += 1
    out = {"migrations": len(todo), "errors": failures}
elif mode == "check":
    call_command("check", stdout=io.StringIO())
elif mode == "apply-sql":
    # Bring the target to "the first K migrations applied" with dbgov's rendered SQL.
    from dbgov.analysis.engine import build_plan
    from django.db.migrations.recorder import MigrationRecorder
    k = int(sys.argv[2])
    plan = build_plan(selection="all", run_rules=False)
    recorder = MigrationRecorder(connection)
    recorder.ensure_schema()
    with connection.cursor() as cursor:
        for migration in plan.migrations[:k]:
            for _, statement in migration.statements_in_order():
                if not statement.failed:
                    cursor.execute(statement.sql)
            recorder.record_applied(migration.app_label, migration.name)
    out = {"applied": k, "pending": len(plan.migrations) - k}
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["inner_s"] = time.perf_counter() - started
print(json.dumps(out))
"""


def run(project: Path, mode: str, url: str, *extra: str, sandbox: Path, cache: Path) -> dict:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="benchproj.settings",
        BENCH_DATABASE_URL=url,
        BENCH_SANDBOX_DIR=str(sandbox),
        BENCH_CACHE_DIR=str(cache),
        PYTHONPATH=os.pathsep.join([str(project), str(ROOT)]),
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, mode, *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
    )
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{out.stderr[-4000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["seconds"] = wall
    return result


def best(results: list[dict]) -> dict:
    """The median run (by wall time), with the min and max seen."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    median = dict(ordered[len(ordered) // 2])
    median["min_s"], median["max_s"] = ordered[0]["seconds"], ordered[-1]["seconds"]
    median["median_s"] = statistics.median(r["seconds"] for r in results)
    return median


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_sandbox(folder: Path) -> None:
    """Stop the embedded clusters a benchmark made under ``folder`` and delete them."""
    from dbgov.sandbox.cluster import EmbeddedCluster

    for cluster in EmbeddedCluster.existing(folder):
        cluster.stop(remove=True)
    shutil.rmtree(folder, ignore_errors=True)


def new_folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def line(label: str, ours: dict, base: dict | None, target: str) -> str:
    ratio = f"{base['median_s'] / ours['median_s']:.1f}x" if base else "-"
    base_s = f"{base['median_s']:.2f}" if base else "-"
    base_mb = f"{base['peak_mb']:.0f}" if base else "-"
    return (
        f"{label:<34} {ours['median_s']:>8.2f} {ours['min_s']:>7.2f} {ours['peak_mb']:>7.0f} "
        f"{base_s:>9} {base_mb:>7} {ratio:>8}   {target}"
    )


HEADER = (
    f"{'case':<34} {'dbgov s':>8} {'min s':>7} {'MB':>7} {'base s':>9} {'base MB':>7} "
    f"{'ratio':>8}   target"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="200,400,800")
    parser.add_argument("--models", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--cases", default="all,pending,tiny")
    args = parser.parse_args()
    base_url = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dbgov_demo"
    ).rsplit("/", 1)[0]
    url = f"{base_url}/dbgov_bench_plan_{os.getpid()}"
    sizes = [int(s) for s in args.sizes.split(",")]
    cases = set(args.cases.split(","))
    workdir = new_folder("dbgov-bench-plan-")
    sandbox = new_folder("dbgov-bench-sbx-")
    print(HEADER)
    results: dict[str, tuple[dict, dict | None]] = {}
    try:
        if "all" in cases:
            for n in sizes:
                project = workdir / f"p{n}"
                generate(project, n, args.models)
                recreate_database(url)
                # The sandbox runs; each repetition starts with an empty render cache.
                run(project, "check", url, sandbox=sandbox, cache=workdir / "c0")
                ours = best(
                    [
                        run(
                            project, "all", url, sandbox=sandbox, cache=new_folder("dbgov-bench-c-")
                        )
                        for _ in range(args.repeat)
                    ]
                )
                base = None
                if not args.skip_baseline:
                    base = best(
                        [run(project, "sqlmigrate-all", url, sandbox=sandbox, cache=workdir / "c0")]
                    )
                results[f"all{n}"] = (ours, base)
                print(
                    line(f"--all N={n} ({ours['migrations']} migr.)", ours, base, ">= 30x at 800")
                )
                print(f"{'':<34} render errors {ours['errors']}, stats {ours.get('stats')}")
            if 400 in sizes and 800 in sizes:
                growth = results["all800"][0]["median_s"] / results["all400"][0]["median_s"]
                print(f"growth t(800)/t(400) = {growth:.2f} (target <= 2.3)")
        if "pending" in cases:
            n = max(sizes)
            project = workdir / f"p{n}"
            if not project.exists():
                generate(project, n, args.models)
            check = best(
                [
                    run(project, "check", url, sandbox=sandbox, cache=workdir / "c0")
                    for _ in range(args.repeat)
                ]
            )
            print(line("manage.py check (start-up)", check, None, ""))
            for applied in (n - 200, n - 10):
                recreate_database(url)
                setup = run(
                    project,
                    "apply-sql",
                    url,
                    str(applied + 0),
                    sandbox=sandbox,
                    cache=workdir / "c0",
                )
                # apply-sql counts contrib and dbgov migrations too: report what is pending.
                cold_runs, warm_runs = [], []
                for _ in range(args.repeat):
                    fresh_sandbox, fresh_cache = (
                        new_folder("dbgov-bench-sbx-"),
                        new_folder("dbgov-bench-c-"),
                    )
                    try:
                        cold_runs.append(
                            run(project, "pending", url, sandbox=fresh_sandbox, cache=fresh_cache)
                        )
                        warm_runs.append(
                            run(project, "pending", url, sandbox=fresh_sandbox, cache=fresh_cache)
                        )
                    finally:
                        stop_sandbox(fresh_sandbox)
                        shutil.rmtree(fresh_cache, ignore_errors=True)
                cold, warm = best(cold_runs), best(warm_runs)
                base = None
                if not args.skip_baseline:
                    base = best(
                        [
                            run(
                                project,
                                "sqlmigrate-pending",
                                url,
                                sandbox=sandbox,
                                cache=workdir / "c0",
                            )
                        ]
                    )
                label = f"{setup['applied']}+{setup['pending']}"
                target = ">= 10x" if setup["pending"] >= 100 else ">= 3x"
                print(line(f"pending {label} cold", cold, base, target))
                print(f"{'':<34} render errors {cold['errors']}, stats {cold.get('stats')}")
                print(
                    line(f"pending {label} warm", warm, None, "")
                    + f"  (warm - check = {warm['median_s'] - check['median_s']:+.2f} s; target <= 1.5)"
                )
        if "tiny" in cases:
            project = workdir / "tiny"
            generate(project, 10, 6, apps=["core", "shop"])
            recreate_database(url)
            run(project, "apply-sql", url, "0", sandbox=sandbox, cache=workdir / "c0")
            base = None
            if not args.skip_baseline:
                base = best(
                    [
                        run(
                            project,
                            "sqlmigrate-pending",
                            url,
                            sandbox=sandbox,
                            cache=workdir / "c0",
                        )
                        for _ in range(args.repeat)
                    ]
                )
            running = best(
                [
                    run(
                        project, "pending", url, sandbox=sandbox, cache=new_folder("dbgov-bench-c-")
                    )
                    for _ in range(args.repeat)
                ]
            )
            starting_runs = []
            for _ in range(args.repeat):
                fresh = new_folder("dbgov-bench-sbx-")
                try:
                    starting_runs.append(
                        run(
                            project,
                            "pending",
                            url,
                            sandbox=fresh,
                            cache=new_folder("dbgov-bench-c-"),
                        )
                    )
                finally:
                    stop_sandbox(fresh)
            starting = best(starting_runs)
            print(
                line(
                    f"tiny ({running['migrations']} pending), sandbox running",
                    running,
                    base,
                    ">= 1.0x",
                )
            )
            extra = (
                f"  (+{starting['median_s'] - base['median_s']:.2f} s; target <= 2 s)"
                if base
                else ""
            )
            print(line("tiny, sandbox starting", starting, base, "") + extra)
    finally:
        stop_sandbox(sandbox)
        drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)
        for folder in Path(tempfile.gettempdir()).glob("dbgov-bench-c-*"):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
