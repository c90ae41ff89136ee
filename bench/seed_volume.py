"""Benchmark: the seed generator path (COPY) against ``loaddata`` of the same rows.

    DATABASE_URL=postgres://…/dbgov_x python bench/seed_volume.py [--rows 50000] [--million]

In one run, each phase in its own child process (so that its peak RSS is its own) and
its own transaction, rolled back at the end (the database is left as it was):

1. generator: ``dbgov seed`` of the staging orders generator (users, products, orders,
   order items) sized to about ``--rows`` rows; timed end to end (generation, COPY,
   constraint check, sequence reset, SeedLoad record). The rows are then dumped with
   Django's JSON serializer to a temporary fixture (not timed).
2. loaddata: ``manage.py loaddata`` of that fixture: the same rows.
3. (``--million``) the generator alone at about one million rows.

Prints the times, the ratio, and peak memory: the peak RSS of the phase's process
above its RSS after Django's setup (resource.getrusage), and for the generator the
peak of Python allocations (tracemalloc, in a separate untimed pass).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROWS_PER_ORDER = 3.11  # orders + ~2.1 items + users and products, measured


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _generator_run(orders: int, dump: str | None, trace: bool) -> dict[str, Any]:
    import tracemalloc

    from django.core import serializers
    from django.db import transaction
    from django.test.utils import override_settings

    from dbgov.models import SeedLoad
    from dbgov.seeds import seed

    workdir = Path(tempfile.mkdtemp(prefix="dbgov_bench_"))
    (workdir / "bench").mkdir()
    shutil.copy(ROOT / "fixtures" / "staging" / "orders.py", workdir / "bench" / "orders.py")
    baseline = _rss_kb()
    out: dict[str, Any] = {}
    try:
        with override_settings(DBGOV={"SEED_DIRS": [str(workdir)]}), transaction.atomic():
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            report = seed("bench", options={"orders": str(orders)}, force=True)
            out["seconds"] = time.perf_counter() - started
            if trace:
                out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            out["rss_peak_mb"] = (_rss_kb() - baseline) / 1024
            out["rows"] = report.rows
            out["models"] = report.files[0].models
            if dump:
                from django.apps import apps

                record = SeedLoad.objects.filter(environment="bench").latest("id")
                with open(dump, "w") as stream:
                    querysets = []
                    for label in ("auth.user", "shop.product", "shop.order", "shop.orderitem"):
                        model = apps.get_model(label)
                        for first, last in record.row_keys[label]:
                            querysets.append(
                                model._base_manager.filter(pk__range=(first, last))
                                .order_by("pk")
                                .iterator(chunk_size=5000)
                            )
                    from itertools import chain

                    serializers.serialize("json", chain(*querysets), stream=stream)
            transaction.set_rollback(True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def _loaddata_run(path: str) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import transaction

    baseline = _rss_kb()
    with transaction.atomic():
        started = time.perf_counter()
        call_command("loaddata", path, verbosity=0)
        seconds = time.perf_counter() - started
        rss = (_rss_kb() - baseline) / 1024
        transaction.set_rollback(True)
    return {"seconds": seconds, "rss_peak_mb": rss}


def _child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"phase {args} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows per path (about)")
    parser.add_argument("--million", action="store_true", help="also the generator at ~1M rows")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--orders", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        _setup()
        if args.phase == "generator":
            result = _generator_run(args.orders, args.dump, args.trace)
        else:
            result = _loaddata_run(args.dump)
        print(json.dumps(result))
        return

    orders = max(1, round(args.rows / ROWS_PER_ORDER))
    with tempfile.TemporaryDirectory(prefix="dbgov_bench_") as tmp:
        fixture = str(Path(tmp) / "orders.json")
        print(f"seed_volume: staging orders generator, {orders} orders (~{args.rows} rows)")
        gen = _child(["--phase", "generator", "--orders", str(orders), "--dump", fixture])
        size_mb = Path(fixture).stat().st_size / 2**20
        print(
            f"  generator (COPY):  {gen['rows']:>9} rows  {gen['seconds']:7.2f} s  "
            f"{gen['rows'] / gen['seconds']:>9.0f} rows/s  peak RSS +{gen['rss_peak_mb']:.1f} MiB"
        )
        load = _child(["--phase", "loaddata", "--dump", fixture])
        print(
            f"  loaddata (JSON):   {gen['rows']:>9} rows  {load['seconds']:7.2f} s  "
            f"{gen['rows'] / load['seconds']:>9.0f} rows/s  peak RSS +{load['rss_peak_mb']:.1f} MiB"
            f"  (fixture {size_mb:.1f} MiB)"
        )
        print(
            f"  ratio: generator is {load['seconds'] / gen['seconds']:.1f}x faster (target >= 10x)"
        )
        traced = _child(["--phase", "generator", "--orders", str(orders), "--trace"])
        print(f"  generator Python peak (tracemalloc): {traced['tracemalloc_peak_mb']:.1f} MiB")
    if args.million:
        big_orders = round(1_000_000 / ROWS_PER_ORDER)
        big = _child(["--phase", "generator", "--orders", str(big_orders)])
        print(
            f"  generator alone:   {big['rows']:>9} rows  {big['seconds']:7.2f} s  "
            f"{big['rows'] / big['seconds']:>9.0f} rows/s  peak RSS +{big['rss_peak_mb']:.1f} MiB"
        )


if __name__ == "__main__":
    main()
