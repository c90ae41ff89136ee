"""Rehearsal benchmark: throughput with 1 and 2 workers, copy time vs dump | restore.

    python bench/rehearsal.py [--runs 6] [--skip-1m] [--keep]

Uses the servers of DATABASE_URL / STAGING_DATABASE_URL / REDIS_URL but databases of
its own, named after them (``<default>_bench``, ``<staging>_bench100k`` and
``<staging>_bench1m``), dropped at the end unless --keep. It measures, in one run:

1. runs per minute of ``dbgov explain --task T-021`` (copy staging with 100K orders,
   EXPLAIN before, apply shop 0003, EXPLAIN after, drop) with one and with two real
   Celery workers on the same queue;
2. the time to copy staging with ``CREATE DATABASE … TEMPLATE`` (dbgov's create_copy,
   each STRATEGY) at 100K and 1M orders, against ``pg_dump -Fc | pg_restore`` of the
   same database into a new one; and prints the ratios (target: copy >= 10x faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCAL = "postgres://postgres@127.0.0.1:5432"


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=6, help="rehearsals per worker count (default 6)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="copy timings per size (default 5)")
    parser.add_argument("--skip-1m", action="store_true", help="leave out the 1M-order database")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()

    default_url = os.environ.get("DATABASE_URL", f"{LOCAL}/dbgov_demo")
    staging_url = os.environ.get("STAGING_DATABASE_URL", f"{LOCAL}/dbgov_staging")
    bench_default = _with_db(default_url, _db_name(default_url) + "_bench")
    sizes = {"100K": 100_000} if args.skip_1m else {"100K": 100_000, "1M": 1_000_000}
    staging_dbs = {
        label: _with_db(staging_url, _db_name(staging_url) + f"_bench{label.lower()}")
        for label in sizes
    }

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DATABASE_URL": bench_default,
        "STAGING_DATABASE_URL": staging_dbs["100K"],
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(
        {k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "STAGING_DATABASE_URL")}
    )

    import django

    django.setup()
    import psycopg
    from psycopg import sql as pgsql

    server = urlsplit(staging_url)
    admin_kwargs: dict[str, Any] = {
        "host": server.hostname or "127.0.0.1",
        "port": server.port or 5432,
        "user": server.username or "postgres",
        "password": server.password,
        "dbname": "postgres",
        "autocommit": True,
    }

    def recreate(name: str) -> None:
        with psycopg.connect(**admin_kwargs) as conn:
            conn.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
            )
            conn.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))

    def drop(name: str) -> None:
        with psycopg.connect(**admin_kwargs) as conn:
            conn.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
            )

    def manage(*argv: str, **extra: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *argv], cwd=ROOT, env={**env, **extra}, check=True
        )

    # Databases ------------------------------------------------------------------
    log(
        f"setting up {_db_name(bench_default)} and {', '.join(_db_name(u) for u in staging_dbs.values())}"
    )
    recreate(_db_name(bench_default))
    manage("migrate", "-v0")
    for label, url in staging_dbs.items():
        recreate(_db_name(url))
        t = time.perf_counter()
        manage(
            "seed_orders",
            "--database",
            "staging",
            "--migrate-to",
            "0002",
            "--orders",
            str(sizes[label]),
            STAGING_DATABASE_URL=url,
        )
        log(f"  seeded {label} orders in {time.perf_counter() - t:.1f} s")

    results: dict[str, Any] = {}
    try:
        results["throughput"] = throughput(args.runs, env)
        results["copy"] = copy_times(staging_dbs, args.repeat, admin_kwargs, drop)
    finally:
        if not args.keep:
            for url in [bench_default, *staging_dbs.values()]:
                drop(_db_name(url))
    report(results)
    return 0


def throughput(runs: int, env: dict[str, str]) -> dict[int, dict[str, float]]:
    from django.conf import settings
    from django.test.utils import override_settings

    from dbgov.explain.runs import enqueue_rehearsal
    from dbgov.models import ExplainRun, Task

    queue = f"dbgov.rehearsal.bench{os.getpid()}"
    task, _ = Task.objects.get_or_create(key="T-021", defaults={"title": "Orders (benchmark)"})
    out: dict[int, dict[str, float]] = {}
    (ROOT / "build").mkdir(exist_ok=True)
    for workers in (1, 2):
        procs = []
        logs = []
        for i in range(workers):
            logf = open(ROOT / "build" / f"bench-worker-{workers}-{i}.log", "w")  # noqa: SIM115
            logs.append(logf)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "project",
                        "worker",
                        "-Q",
                        queue,
                        "-c",
                        "1",
                        "--pool=prefork",
                        "--without-mingle",
                        "--without-gossip",
                        "-n",
                        f"bench{workers}-{i}@%h",
                        "-l",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=logf,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        time.sleep(6)  # let the workers start (not timed)
        with override_settings(DBGOV={**settings.DBGOV, "REHEARSAL_QUEUE": queue}):
            started = time.perf_counter()
            ids = [enqueue_rehearsal(task, requested_by="bench").pk for _ in range(runs)]
            while ExplainRun.objects.filter(pk__in=ids, status__in=["queued", "running"]).exists():
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        done = ExplainRun.objects.filter(pk__in=ids)
        ok = done.filter(status="succeeded").count()
        per_run = [r.duration_ms / 1000 for r in done if r.duration_ms]
        copy_s = [r.copy_ms / 1000 for r in done if r.copy_ms]
        for p in procs:
            os.killpg(p.pid, 15)
        for p in procs:
            p.wait(timeout=30)
        for f in logs:
            f.close()
        out[workers] = {
            "runs": runs,
            "succeeded": ok,
            "seconds": elapsed,
            "runs_per_minute": runs / elapsed * 60,
            "median_run_s": statistics.median(per_run) if per_run else float("nan"),
            "median_copy_s": statistics.median(copy_s) if copy_s else float("nan"),
        }
        log(f"  {workers} worker(s): {runs} runs ({ok} succeeded) in {elapsed:.1f} s")
    return out


def copy_times(
    staging_dbs: dict[str, str], repeat: int, admin_kwargs: dict[str, Any], drop: Any
) -> dict[str, dict[str, float]]:
    import psycopg
    from django.conf import settings
    from django.db import connections
    from django.test.utils import override_settings

    from dbgov.explain.copy import create_copy, drop_copy

    out: dict[str, dict[str, float]] = {}
    staging = connections["staging"]
    original = staging.settings_dict["NAME"]
    for label, url in staging_dbs.items():
        name = _db_name(url)
        staging.close()
        staging.settings_dict["NAME"] = name
        with psycopg.connect(**{**admin_kwargs, "dbname": name}) as conn:
            size = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            ).fetchone()[0]  # type: ignore[index]
        timings: dict[str, float] = {"size": size}  # type: ignore[dict-item]

        def checkpoint() -> None:
            # Untimed: every measurement starts with no dirty buffers left by the last.
            with psycopg.connect(**admin_kwargs) as conn:
                conn.execute("CHECKPOINT")

        for strategy in ("WAL_LOG", "FILE_COPY"):
            samples = []
            with override_settings(DBGOV={**settings.DBGOV, "COPY_STRATEGY": strategy}):
                for i in range(repeat):
                    checkpoint()
                    copy = create_copy(990_000 + i)
                    samples.append(copy.seconds)
                    drop_copy("staging", copy.name)
            timings[f"template_{strategy.lower()}_s"] = statistics.median(samples)
            timings[f"template_{strategy.lower()}_min_s"] = min(samples)
        samples = []
        env = {**os.environ, "PGPASSWORD": admin_kwargs.get("password") or ""}
        host = [
            "-h",
            str(admin_kwargs["host"]),
            "-p",
            str(admin_kwargs["port"]),
            "-U",
            str(admin_kwargs["user"]),
        ]
        for i in range(repeat):
            target = f"{name}_restore{i}"
            drop(target)
            checkpoint()
            started = time.perf_counter()
            subprocess.run(["createdb", *host, target], check=True, env=env)
            dump = subprocess.Popen(
                ["pg_dump", *host, "-Fc", "-d", name], stdout=subprocess.PIPE, env=env
            )
            subprocess.run(
                ["pg_restore", *host, "-d", target], stdin=dump.stdout, check=True, env=env
            )
            assert dump.stdout is not None
            dump.stdout.close()
            if dump.wait() != 0:
                raise RuntimeError("pg_dump failed")
            samples.append(time.perf_counter() - started)
            drop(target)
        timings["dump_restore_s"] = statistics.median(samples)
        timings["dump_restore_min_s"] = min(samples)
        out[label] = timings
        log(f"  copy {label}: {timings}")
    staging.close()
    staging.settings_dict["NAME"] = original
    return out


def report(results: dict[str, Any]) -> None:
    tp = results["throughput"]
    print("\nRehearsals of T-021 (100K orders): copy, EXPLAIN before, migrate, EXPLAIN after, drop")
    print(
        f"{'workers':>8} {'runs':>5} {'ok':>4} {'wall s':>8} {'runs/min':>9} {'median run s':>13} {'median copy s':>14}"
    )
    for workers, r in tp.items():
        print(
            f"{workers:>8} {r['runs']:>5} {r['succeeded']:>4} {r['seconds']:>8.1f} {r['runs_per_minute']:>9.1f}"
            f" {r['median_run_s']:>13.2f} {r['median_copy_s']:>14.2f}"
        )
    if 1 in tp and 2 in tp:
        print(
            f"scale-out: 2 workers / 1 worker = {tp[2]['runs_per_minute'] / tp[1]['runs_per_minute']:.2f}x runs per minute"
        )
    print(
        "\nCopying staging: CREATE DATABASE … TEMPLATE vs pg_dump -Fc | pg_restore"
        " (seconds, median with min in brackets)"
    )
    print(
        f"{'orders':>7} {'size':>8} {'TEMPLATE WAL_LOG':>18} {'TEMPLATE FILE_COPY':>19}"
        f" {'dump | restore':>16} {'ratio WAL_LOG':>14} {'ratio FILE_COPY':>16}"
    )
    for label, t in results["copy"].items():
        rw = t["dump_restore_s"] / t["template_wal_log_s"]
        rf = t["dump_restore_s"] / t["template_file_copy_s"]
        print(
            f"{label:>7} {t['size']:>8}"
            f" {t['template_wal_log_s']:>9.3f} ({t['template_wal_log_min_s']:.3f})"
            f" {t['template_file_copy_s']:>10.3f} ({t['template_file_copy_min_s']:.3f})"
            f" {t['dump_restore_s']:>8.2f} ({t['dump_restore_min_s']:.2f})"
            f" {rw:>13.1f}x {rf:>15.1f}x"
        )
    verdicts = []
    for label, t in results["copy"].items():
        strategy, best = max(
            ("WAL_LOG", t["dump_restore_s"] / t["template_wal_log_s"]),
            ("FILE_COPY", t["dump_restore_s"] / t["template_file_copy_s"]),
            key=lambda pair: pair[1],
        )
        verdicts.append(
            f"{label}: {best:.1f}x with {strategy} ({'met' if best >= 10 else 'NOT met'})"
        )
    print("target copy >= 10x faster than dump | restore: " + "; ".join(verdicts))
    load = os.getloadavg()[0]
    print(
        f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs (a shared machine is noisy)"
    )


if __name__ == "__main__":
    sys.exit(main())
