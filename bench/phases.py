"""What classifying every migration pre-/post-deploy costs (analysis/phases.py).

``migrate --phase`` and every plan classify migrations by walking the project state
through the history once (never rendered). This generates synthetic projects shaped
like large real ones (bench/synthetic_project.py) and times, in one process per size:

- baseline: loading the migration graph from disk (``MigrationLoader``), what every
  ``migrate`` and ``plan`` pays anyway: cold (the first load imports the files) and warm;
- ``phases_of`` over every migration of the history (the worst case: all pending).

It prints phases / cold graph load: the share ``--phase`` adds to a ``migrate`` run.
Target: below 1x (less than loading the graph) at N = 800.

    python bench/phases.py [--sizes 200,800] [--models 150] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUNNER = """
import json, statistics, sys, time
import django
django.setup()
from django.db.migrations.loader import MigrationLoader
from dbgov.analysis.phases import phases_of

repeat = int(sys.argv[1])
load, classify, post = [], [], 0
for _ in range(repeat):
    started = time.perf_counter()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    load.append(time.perf_counter() - started)
    started = time.perf_counter()
    decisions = phases_of(loader, list(loader.graph.nodes))
    classify.append(time.perf_counter() - started)
    post = sum(1 for d in decisions.values() if d.phase == "post")
print(json.dumps({"cold_load": load[0], "load": min(load), "phases": min(classify),
                  "migrations": len(decisions), "post": post}))
"""


def measure(project: Path, repeat: int) -> dict:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="benchproj.settings",
        BENCH_DATABASE_URL=os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        ),
        PYTHONPATH=os.pathsep.join([str(project), str(ROOT)]),
    )
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=project,
    )
    if out.returncode != 0:
        raise SystemExit(f"run failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="200,800")
    parser.add_argument("--models", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from synthetic_project import generate

    for size in (int(s) for s in args.sizes.split(",")):
        folder = Path(tempfile.mkdtemp(prefix=f"dbgov-bench-phases-{size}-"))
        try:
            generate(folder, size, args.models)
            r = measure(folder, args.repeat)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(
            f"N={r['migrations']:4d} migrations ({r['post']} post-deploy): graph load cold "
            f"{r['cold_load']:.3f} s / warm {r['load']:.3f} s, phases {r['phases']:.3f} s: "
            f"{r['phases'] / r['cold_load']:.2f}x the cold graph load"
        )


if __name__ == "__main__":
    main()
