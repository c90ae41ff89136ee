"""Risk estimates against what PostgreSQL actually takes, on the same server.

    python bench/estimates.py [--repeat 3] [--sizes 10000,100000,1000000] [--keep]

Uses the server of DATABASE_URL with a database of its own (``<name>_bench_estimates``,
dropped at the end unless --keep). It generates three calibration tables (20K, 50K
and 300K rows) and tables of 10K, 100K and 1M rows (id bigserial, two integers, a
text), ANALYZEs them, and times on each the common sized statements — a rewrite (ALTER
COLUMN TYPE), an index build, a CHECK validation, a foreign key validation and a SET NOT
NULL scan — each inside a transaction rolled back afterwards, so every run sees the same
table. The median of --repeat runs is the actual time.

The estimates are dbgov's (dbgov.analysis.risk): work from the table's catalog
statistics (read_statistics, the code path `plan` uses) over a throughput, first the
documented defaults, then the throughputs calibrated on the calibration tables (overhead
+ work / rate fitted through each statement's work and time, as rehearsals record them
in the Throughput table); and the line fitted through the measured tables' own
statements, as after a rehearsal of the same migrations on staging. Printed per
statement: estimate / actual (the ratio); the target is calibrated ratios within 0.5-2x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOCAL = "postgres://postgres@127.0.0.1:5432"

STATEMENTS = [
    ("rewrite", "ALTER TABLE {t} ALTER COLUMN amount TYPE bigint"),
    ("index", "CREATE INDEX {t}_amount ON {t} (amount)"),
    ("validate", "ALTER TABLE {t} ADD CONSTRAINT {t}_amount_check CHECK (amount >= 0)"),
    (
        "foreign-key",
        "ALTER TABLE {t} ADD CONSTRAINT {t}_ref_fk FOREIGN KEY (ref) REFERENCES bench_ref (id)",
    ),
    ("scan", "ALTER TABLE {t} ALTER COLUMN label SET NOT NULL"),
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--calibration-rows", default="20000,50000,300000")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    import psycopg

    from dbgov.analysis.model import Statement
    from dbgov.analysis.risk import DEFAULT_RATES, Rate, read_statistics
    from dbgov.analysis.risk.estimates import RateSums, estimate_statement, fit_rate
    from dbgov.analysis.risk.regrade import human_rows, human_seconds
    from dbgov.analysis.sql import analyse_statement

    url = os.environ.get("DATABASE_URL", f"{LOCAL}/dbgov_demo")
    name = urlsplit(url).path.lstrip("/") + "_bench_estimates"
    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    sizes = [int(s) for s in args.sizes.split(",")]
    conn = psycopg.connect(_with_db(url, name), autocommit=True)
    try:
        conn.execute("CREATE TABLE bench_ref (id int PRIMARY KEY)")
        conn.execute("INSERT INTO bench_ref SELECT g FROM generate_series(0, 999) g")
        calibration = {f"bench_cal_{n}": int(n) for n in args.calibration_rows.split(",")}
        tables = calibration | {f"bench_{n}": n for n in sizes}
        for table, rows in tables.items():
            started = time.perf_counter()
            conn.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, amount int NOT NULL, "
                "ref int NOT NULL, label text)"
            )
            conn.execute(
                f"INSERT INTO {table} (amount, ref, label) SELECT g, g % 1000, 'row ' || g "
                f"FROM generate_series(1, {rows}) g"
            )
            conn.execute(f"VACUUM ANALYZE {table}")
            log(f"{table}: {rows} rows in {time.perf_counter() - started:.1f} s")
        stats = read_statistics(conn)

        def actual(sql: str) -> float:
            times = []
            for _ in range(args.repeat):
                with conn.transaction(force_rollback=True):
                    started = time.perf_counter()
                    conn.execute(sql)
                    times.append(time.perf_counter() - started)
            return statistics.median(times)

        def work_and_kind(sql: str, rates: dict[str, Rate]) -> tuple[str, float | None]:
            estimate = estimate_statement(
                Statement(sql=sql, facts=analyse_statement(sql)), stats, rates
            )
            assert estimate is not None, sql
            return estimate.kind, estimate.seconds

        # Calibrate as rehearsals do: sums of work and time per kind, then the fitted line.
        sums: dict[str, RateSums] = {}
        for table in calibration:
            for label, template in STATEMENTS:
                sql = template.format(t=table)
                kind, seconds_at_default = work_and_kind(sql, dict(DEFAULT_RATES))
                assert seconds_at_default is not None
                default = DEFAULT_RATES[kind]
                work = (seconds_at_default - default.overhead_s) * default.per_s
                took = actual(sql)
                sums.setdefault(kind, RateSums()).add(work, took)
                log(f"calibration {table} {label}: {human_seconds(took)}")
        calibrated: dict[str, Rate] = {}
        for kind, measured in sums.items():
            fitted = fit_rate(kind, measured, source="calibrated")
            if fitted is not None:
                calibrated[kind] = fitted
        print(f"server: {stats.server}; repeat {args.repeat}, median")
        for k, r in calibrated.items():
            unit = "rows" if k in ("index", "foreign-key") else "bytes"
            d = DEFAULT_RATES[k]
            print(
                f"calibrated {k}: {r.per_s:.3g} {unit}/s + {r.overhead_s * 1000:.1f} ms"
                f" (default {d.per_s:.3g} {unit}/s + {d.overhead_s * 1000:.1f} ms)"
            )
        # The tables of 10K, 100K and 1M rows: measured once, then estimated three ways.
        measured = []
        in_sample: dict[str, RateSums] = {}
        for n in sizes:
            for label, template in STATEMENTS:
                sql = template.format(t=f"bench_{n}")
                kind, default_s = work_and_kind(sql, dict(DEFAULT_RATES))
                assert default_s is not None
                default = DEFAULT_RATES[kind]
                took = actual(sql)
                in_sample.setdefault(kind, RateSums()).add(
                    (default_s - default.overhead_s) * default.per_s, took
                )
                measured.append((n, label, sql, took, default_s))
        fitted_here = {
            k: r for k, m in in_sample.items() if (r := fit_rate(k, m, source="fit")) is not None
        }
        header = (
            f"{'rows':>6}  {'statement':<12} {'actual':>8} {'default':>8} {'ratio':>6}"
            f" {'held-out':>8} {'ratio':>6} {'fitted':>8} {'ratio':>6}"
        )
        print(header)
        print("-" * len(header))
        worst = {"default": 1.0, "held-out": 1.0, "fitted": 1.0}
        for n, label, sql, took, _ in measured:
            cells = []
            for column, rates in (
                ("default", dict(DEFAULT_RATES)),
                ("held-out", {**DEFAULT_RATES, **calibrated}),
                ("fitted", {**DEFAULT_RATES, **fitted_here}),
            ):
                _, estimate = work_and_kind(sql, rates)
                assert estimate is not None
                ratio = estimate / took
                worst[column] = max(worst[column], ratio, 1 / ratio)
                cells.append(f"{human_seconds(estimate):>8} {ratio:>5.2f}x")
            print(f"{human_rows(n):>6}  {label:<12} {human_seconds(took):>8} " + " ".join(cells))
        print(
            "worst factor (estimate vs actual, either way): "
            + ", ".join(f"{k} {v:.2f}" for k, v in worst.items())
            + " (target for calibrated: <= 2)"
        )
        print(
            "default: documented throughputs; held-out: calibrated on the 20K/50K/300K-row "
            "tables; fitted: calibrated on these tables' own statements (what a rehearsal of "
            "the same migrations on staging gives)"
        )
        return 0
    finally:
        conn.close()
        if not args.keep:
            with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
