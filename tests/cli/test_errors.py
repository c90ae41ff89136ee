"""Every command, one clear message: each subcommand and the gated ``migrate`` meet bad
input — a broken migration file, a graph conflict and cycle, an unreachable database, a
dead broker, a bad option — and answer with exit 2 and one line naming the file or
object, never a traceback, and nothing half-written.

The commands run as a user runs them (``manage.py`` in a subprocess, against the test
database); the runs are spread over a few threads and the tests read their results.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dbgov.cli import discover

pytestmark = [pytest.mark.django_db(transaction=True)]

# A valid invocation of each command (what a user would type on a good day).
COMMANDS: dict[str, list[str]] = {
    "approve": ["dbgov", "approve", "deadbeef", "--as", "nobody", "--reason", "ok"],
    "baseline": ["dbgov", "baseline", "--no-cache"],
    "check": ["dbgov", "check"],
    "drift": ["dbgov", "drift", "--no-cache"],
    "explain": ["dbgov", "explain", "--task", "T-021"],
    "fix": ["dbgov", "fix", "shop", "--dry-run"],
    "lint": ["dbgov", "lint", "{sql}"],
    "makemigrations": ["dbgov", "makemigrations", "--task", "T-021", "--dry-run"],
    "plan": ["dbgov", "plan", "--no-save", "--no-cache"],
    "reject": ["dbgov", "reject", "deadbeef", "--as", "nobody", "--reason", "no"],
    "report": ["dbgov", "report", "--task", "T-021"],
    "roles": ["dbgov", "roles"],
    "rules": ["dbgov", "rules"],
    "sandbox": ["dbgov", "sandbox", "status"],
    "seed": ["dbgov", "seed", "--status"],
    "tasks": ["dbgov", "tasks"],
    "verify": ["dbgov", "verify"],
    "migrate": ["migrate"],  # gated: DBGOV_ENFORCE_ON_MIGRATE=1 below
}

NO_MIGRATIONS = {
    "approve",
    "reject",
    "lint",
    "report",
    "roles",
    "rules",
    "seed",
    "tasks",
    "sandbox",
    "verify",
}
# makemigrations first checks that its task exists (it does not, in the test database).
GRAPH_UNAFFECTED = NO_MIGRATIONS | {"makemigrations"}

# Each bad input, what the message must name, and the commands it cannot affect (they
# never read migrations / the database / the broker): those are not run.
BAD_INPUTS: dict[str, tuple[str, set[str]]] = {
    "broken-migration": ("0002_broken.py, line", NO_MIGRATIONS | {"makemigrations"}),
    "graph-conflict": ("conflicting migrations", GRAPH_UNAFFECTED),
    "graph-cycle": ("cycle", GRAPH_UNAFFECTED),
    "unreachable-database": ("database 'default' does not answer", {"lint", "rules", "sandbox"}),
    "dead-broker": (
        "broker redis://127.0.0.1:1/0",
        set(COMMANDS) - {"explain"},
    ),
    "bad-option": ("--no-such-option", set()),
}

MIGRATIONS = {
    "broken": {
        "0001_initial.py": "deps = []",
        "0002_broken.py": "deps = [('shop', '0001_initial')]\nthis is not python\n",
    },
    "conflict": {
        "0001_initial.py": "deps = []",
        "0002_left.py": "deps = [('shop', '0001_initial')]",
        "0002_right.py": "deps = [('shop', '0001_initial')]",
    },
    "cycle": {
        "0001_initial.py": "deps = [('shop', '0002_back')]",
        "0002_back.py": "deps = [('shop', '0001_initial')]",
    },
}
MIGRATION_TEMPLATE = textwrap.dedent(
    """\
    from django.db import migrations

    {deps}


    class Migration(migrations.Migration):
        dependencies = deps
        operations = []
    """
)

ERROR_LINE = re.compile(r"^(CommandError: |manage\.py [\w -]+: error: )", re.MULTILINE)


@dataclass
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str


def _write_migrations(root: Path) -> None:
    for name, files in MIGRATIONS.items():
        package = root / f"bad_{name}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        for filename, deps in files.items():
            head, _, rest = deps.partition("\n")
            text = MIGRATION_TEMPLATE.format(deps=head) + rest
            (package / filename).write_text(text)
        (root / f"settings_{name}.py").write_text(
            f"from project.settings import *  # noqa\nMIGRATION_MODULES = {{'shop': 'bad_{name}'}}\n"
        )


def _env(root: Path, bad: str) -> tuple[dict[str, str], list[str]]:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join([str(root), str(settings.BASE_DIR)]),
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DBGOV_ENFORCE_ON_MIGRATE": "1",  # the demo project's switch for the gate
    }
    env.pop("DBGOV_SANDBOX_URL", None)
    extra: list[str] = []
    packages = {"broken-migration": "broken", "graph-conflict": "conflict", "graph-cycle": "cycle"}
    if bad in packages:
        extra = ["--settings", f"settings_{packages[bad]}"]
    elif bad == "unreachable-database":
        env["DATABASE_URL"] = f"postgres://{db['USER']}@127.0.0.1:1/nowhere"
    elif bad == "dead-broker":
        env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    elif bad == "bad-option":
        extra = ["--no-such-option"]
    return env, extra


@pytest.fixture(scope="module")
def runs(tmp_path_factory, django_db_setup, django_db_blocker) -> dict[tuple[str, str], Run]:
    root = tmp_path_factory.mktemp("bad_input")
    _write_migrations(root)
    (root / "ok.sql").write_text("SELECT 1;\n")
    jobs = []
    for bad in BAD_INPUTS:
        env, extra = _env(root, bad)
        for name, args in COMMANDS.items():
            if name in BAD_INPUTS[bad][1]:
                continue  # never reads what this input breaks
            argv = [a.replace("{sql}", str(root / "ok.sql")) for a in args] + extra
            jobs.append(((name, bad), argv, env))

    def run(job: tuple[tuple[str, str], list[str], dict[str, str]]) -> tuple[tuple[str, str], Run]:
        key, argv, env = job
        done = subprocess.run(
            [sys.executable, "manage.py", *argv],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return key, Run(argv, done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(run, jobs))


def test_every_subcommand_is_walked():
    assert set(discover()) | {"migrate"} == set(COMMANDS)


AFFECTED = [(n, b) for b in BAD_INPUTS for n in COMMANDS if n not in BAD_INPUTS[b][1]]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "bad"), AFFECTED, ids=[f"{n}-{b}" for n, b in AFFECTED])
def test_bad_input_gives_one_line_and_exit_2(runs, name, bad):
    names = BAD_INPUTS[bad][0]
    run = runs[(name, bad)]
    shown = f"{' '.join(run.args)} -> {run.code}\n{run.stderr}"
    assert "Traceback" not in run.stderr + run.stdout, shown
    errors = ERROR_LINE.findall(run.stderr)
    assert run.code == 2, shown
    assert len(errors) == 1, shown
    line = next(line for line in run.stderr.splitlines() if ERROR_LINE.match(line))
    assert names.lower() in line.lower(), shown


@pytest.mark.slow
def test_nothing_half_written_by_failed_commands(runs):
    """No command that failed left a plan, a run or a task behind in the database."""
    with connection.cursor() as cursor:
        for table in ("dbgov_plan", "dbgov_explainrun", "dbgov_task"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone() == (0,), table


def _call(*args: str) -> CommandError:
    with pytest.raises(CommandError) as raised:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    return raised.value


def test_an_invalid_task_key_is_a_bad_option():
    error = _call("dbgov", "plan", "--no-save", "--task", "T-XYZ")
    assert error.returncode == 2
    assert "'T-XYZ' is not a task key" in str(error)


def test_a_task_no_migration_names_is_an_error():
    error = _call("dbgov", "plan", "--no-save", "--task", "T-999")
    assert error.returncode == 2
    assert str(error) == "no migration file names task T-999 (class attribute dbgov_task = 'T-999')"


def test_lint_on_a_folder_of_django_migrations_says_to_plan_them():
    folder = Path(settings.BASE_DIR) / "project" / "shop" / "migrations"
    error = _call("dbgov", "lint", str(folder))
    assert error.returncode == 2
    assert "no .sql files, only Django migrations (.py)" in str(error)
    assert "manage.py dbgov plan" in str(error)


def test_lint_on_an_empty_folder_says_so(tmp_path):
    error = _call("dbgov", "lint", str(tmp_path))
    assert (error.returncode, str(error)) == (2, f"{tmp_path}: no .sql files to lint")


def test_settings_and_a_bad_option_after_the_subcommand():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nonexistent.settings"}
    base = [sys.executable, "manage.py", "dbgov", "rules", "--format", "json"]
    ok = subprocess.run(
        [*base, "--settings", "project.settings"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [*base, "--settings", "project.settings", "--frmat", "x"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "manage.py dbgov: error: unrecognized arguments: --frmat x (see --help)"
    ]
