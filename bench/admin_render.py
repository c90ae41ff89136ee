"""Render the DBA's desk pages small and large: findings and plan nodes.

Runnable alone: ``python bench/admin_render.py``. Creates a throw-away test database
(named after DATABASE_URL's, suffixed ``_bench_admin``), stores two plans (10 and 1,000
findings) and two rehearsal runs (plans of 10 and 1,000 nodes), renders each page
several times in the same run and prints the median times, the SQL query counts and
the ratio large / small of each page (target: <= 3x; the review page shows 25
operations per page, the run page draws every node of every plan, so its time grows
with the nodes while its query count does not).
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


def run_with_nodes(task, nodes: int):  # type: ignore[no-untyped-def]
    from governance.test_admin import rehearsal_run

    return rehearsal_run(task, nodes)


def main() -> int:
    from django.contrib.auth.models import User

    from dbgov.governance import services
    from dbgov.models import ApprovalRequest, Task

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
        task = Task.objects.get(key="T-021")
        runs = {n: run_with_nodes(task, n) for n in (10, 1000)}
        run_pages = measure(
            client,
            {n: reverse("admin:dbgov_explainrun_change", args=[r.pk]) for n, r in runs.items()},
        )
        request = ApprovalRequest.objects.order_by("id").first()
        assert request is not None
        others = {
            "approval queue (1,010 requests, 100 per page)": reverse(
                "admin:dbgov_approvalrequest_changelist"
            ),
            "request page": reverse("admin:dbgov_approvalrequest_change", args=[request.pk]),
            "task page": reverse("admin:dbgov_task_change", args=[task.pk]),
            "task completion report": reverse("admin:dbgov_task_report", args=[task.pk]),
            "rehearsal runs list": reverse("admin:dbgov_explainrun_changelist"),
        }
        single = measure(client, dict(enumerate(others.values())))
        for n, (t, q, size) in results.items():
            print(
                f"review page, {n:>5} findings: {t * 1000:7.1f} ms median of {REPEAT}, "
                f"{q} queries, {size} bytes"
            )
        for n, (t, q, size) in run_pages.items():
            print(
                f"run page, 4 plans of {n:>5} nodes: {t * 1000:7.1f} ms median of {REPEAT}, "
                f"{q} queries, {size} bytes"
            )
        for i, name in enumerate(others):
            t, q, size = single[i]
            print(f"{name}: {t * 1000:7.1f} ms, {q} queries, {size} bytes")
        ratio = results[1000][0] / results[10][0]
        print(f"ratio 1,000 / 10 findings (review page): {ratio:.2f}x (target <= 3x)")
        node_ratio = run_pages[1000][0] / run_pages[10][0]
        print(
            f"ratio 1,000 / 10 nodes (run page): {node_ratio:.2f}x "
            f"(draws 100x the nodes; queries {run_pages[10][1]} -> {run_pages[1000][1]})"
        )
        return 0 if ratio <= 3 and run_pages[10][1] == run_pages[1000][1] else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    raise SystemExit(main())
