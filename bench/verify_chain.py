"""What tamper evidence costs: a signed, chained append against a plain INSERT, and
``dbgov verify`` per row.

Runnable alone: ``python bench/verify_chain.py [ROWS]`` (default 2,000). Creates a
throw-away test database (DATABASE_URL's name suffixed ``_bench_chain``) and, in the
same run:

- appends ROWS audit events one by one through ``AuditEvent.objects.create`` (sign,
  lock the chain head, INSERT, advance the head: each in its own transaction, as the
  services do) and inserts ROWS rows of the same shape into an unchained copy of the
  table with a plain INSERT each; prints both per-row times and the ratio;
- the same with one ``bulk_create`` of ROWS rows (the ledger's path);
- verifies the chain (every signature, link and head) and prints the time per row.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402


def main(rows: int) -> None:
    from dbgov.governance import integrity
    from dbgov.models import AuditEvent

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plain (LIKE dbgov_auditevent INCLUDING ALL)")

    def plain_insert(i: int) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_plain (action, actor_name, subject, reason, data, created_at,"
                " prev_digest, digest, key_id) VALUES (%s, %s, %s, '', '{}', %s, '', '', '')",
                ["bench.plain", "system:bench", f"row {i}", timezone.now()],
            )

    def chained_insert(i: int) -> None:
        AuditEvent.objects.create(
            action="bench.chained", actor_name="system:bench", subject=f"row {i}"
        )

    timings = {}
    for name, fn in (("plain INSERT", plain_insert), ("signed append", chained_insert)):
        fn(-1)  # warm up
        start = time.perf_counter()
        for i in range(rows):
            fn(i)
        timings[name] = (time.perf_counter() - start) / rows
    ratio = timings["signed append"] / timings["plain INSERT"]
    print(f"one row per transaction, {rows} rows:")
    for name, t in timings.items():
        print(f"  {name:>14}: {t * 1e6:8.0f} µs/row")
    print(f"  ratio signed/plain: {ratio:.2f}x")

    objs = [
        AuditEvent(action="bench.bulk", actor_name="system:bench", subject=f"b{i}")
        for i in range(rows)
    ]
    start = time.perf_counter()
    AuditEvent.objects.bulk_create(objs)
    bulk_signed = time.perf_counter() - start
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_plain (action, actor_name, subject, reason, data, created_at,"
            " prev_digest, digest, key_id) VALUES (%s, %s, %s, '', '{}', %s, '', '', '')",
            [["bench.bulk", "system:bench", f"b{i}", timezone.now()] for i in range(rows)],
        )
    bulk_plain = time.perf_counter() - start
    print(
        f"bulk, {rows} rows: signed {bulk_signed * 1e6 / rows:.0f} µs/row, "
        f"plain {bulk_plain * 1e6 / rows:.0f} µs/row, ratio {bulk_signed / bulk_plain:.2f}x"
    )

    total = AuditEvent.objects.count()
    start = time.perf_counter()
    violations = integrity.verify_table(AuditEvent)
    took = time.perf_counter() - start
    assert violations == [], violations
    print(f"verify: {total} rows in {took * 1000:.0f} ms, {took * 1e6 / total:.1f} µs/row, intact")


if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    setup_test_environment()
    base = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"{base}_bench_chain"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        main(rows)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
