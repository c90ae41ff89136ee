"""Render the admin's plan review page for a plan with 10 and with 1,000 findings.

Runnable alone: ``python bench/admin_render.py``. Creates a throw-away test database
(named after DATABASE_URL's, suffixed ``_bench_admin``), stores both plans, renders
each page several times in the same run and prints the median times, the SQL query
counts and the ratio (target: <= 3x; the page shows 25 operations per page).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import reverse  # noqa: E402

REPEAT = 15


def build(n: int):  # type: ignore[no-untyped-def]
    from governance.conftest import build_plan, finding, migration

    half = n // 2
    m1 = migration("0002_orders", "T-021", ops=half)
    m2 = migration("0010_orders_total_check", "T-040", ops=n - half)
    return build_plan(
        m1,
        m2,
        findings=[finding(m1, i) for i in range(half)] + [finding(m2, i) for i in range(n - half)],
    )


def measure(client: Client, urls: dict[int, str]) -> dict[int, tuple[float, int, int]]:
    """Median render time per URL, the runs interleaved so that load drift on a shared
    machine hits both sizes alike; then the query count and page size of one render."""
    times: dict[int, list[float]] = {n: [] for n in urls}
    for url in urls.values():
        client.get(url)  # warm caches (templates, lexer)
    for _ in range(REPEAT):
        for n, url in urls.items():
            t0 = time.perf_counter()
            response = client.get(url)
            times[n].append(time.perf_counter() - t0)
            assert response.status_code == 200
    out = {}
    for n, url in urls.items():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        out[n] = (statistics.median(times[n]), len(ctx.captured_queries), len(response.content))
    return out


def main() -> int:
    from django.contrib.auth.models import User

    from dbgov.governance import services

    base = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"{base}_bench_admin"
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        user = User.objects.create_superuser("bench", password="x")
        client = Client()
        client.force_login(user)
        urls = {}
        for n in (10, 1000):
            plan = services.save_plan(build(n))
            urls[n] = reverse("admin:dbgov_plan_review", args=[plan.pk])
        results = measure(client, urls)
        queue = measure(client, {0: reverse("admin:dbgov_approvalrequest_changelist")})[0]
        for n, (t, q, size) in results.items():
            print(
                f"review page, {n:>5} findings: {t * 1000:7.1f} ms median of {REPEAT}, "
                f"{q} queries, {size} bytes"
            )
        print(
            f"approval queue (1,010 requests, 100 per page): {queue[0] * 1000:7.1f} ms, {queue[1]} queries"
        )
        ratio = results[1000][0] / results[10][0]
        print(f"ratio 1,000 / 10 findings: {ratio:.2f}x (target <= 3x)")
        return 0 if ratio <= 3 else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    raise SystemExit(main())
