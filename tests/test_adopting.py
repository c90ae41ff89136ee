"""docs/adopting.md is a test: an existing project adopts dbgov by following the page.

The test builds dbgov's wheel, makes a fresh virtualenv with only Django and psycopg,
creates a project with ``django-admin startproject`` and an app with a history of its
own (migrated on a new PostgreSQL database), then runs every block of the page marked
``<!-- adopt:run|append|write … -->`` in order — the commands are read from the page, so
it cannot drift — and checks that plan, check, the baseline, the gate and the admin
pages work on the base install (no extras), and that the missing extras say what to
install.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DOC = REPO_ROOT / "docs" / "adopting.md"
BLOCK = re.compile(r"<!-- adopt:(\w+)(?: ([^>]*?))? -->\n```\w*\n(.*?)```", re.S)

# The project before dbgov: an app with a history (its first migration is applied).
SHOP_MODELS = """\
from django.conf import settings
from django.db import models


class Order(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
"""
PROJECT_SETTINGS = """
import os

INSTALLED_APPS += ["shop"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["PGDATABASE"],
        "HOST": os.environ["PGHOST"],
        "PORT": os.environ["PGPORT"],
        "USER": os.environ["PGUSER"],
    }
}
"""
USERS = (
    "from django.contrib.auth.models import User; "
    "User.objects.create_superuser('alice', 'alice@example.com', 'pw'); "
    "User.objects.create_user('dave', 'dave@example.com', 'pw', is_staff=True)"
)
ADMIN_PAGES = """
from django.test import Client
from django.test.utils import setup_test_environment
from dbgov.models import Plan
setup_test_environment()
client = Client()
assert client.login(username="alice", password="pw")
plan = Plan.objects.order_by("-pk").first()
for url in ["/admin/", "/admin/dbgov/approvalrequest/", "/admin/dbgov/plan/",
            f"/admin/dbgov/plan/{plan.pk}/change/", "/admin/dbgov/task/",
            "/admin/dbgov/auditevent/"]:
    page = client.get(url, follow=True)
    print(url, page.status_code, "T-001" in page.content.decode())
"""


@dataclass(frozen=True)
class Step:
    kind: str  # run, append or write
    arg: str  # run: "exit=0,1"; append/write: the file
    body: str


def doc_steps() -> list[Step]:
    return [
        Step(kind, (arg or "").strip(), body) for kind, arg, body in BLOCK.findall(DOC.read_text())
    ]


def test_the_page_has_its_steps() -> None:
    steps = doc_steps()
    assert {s.kind for s in steps} == {"run", "append", "write"}
    commands = [line for s in steps if s.kind == "run" for line in s.body.splitlines()]
    for needed in ("pip install dbgov", "dbgov baseline", "dbgov plan", "dbgov check", "migrate"):
        assert any(needed in c for c in commands), needed


@dataclass
class Result:
    command: str
    code: int
    output: str


class Shell:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env, self.log = cwd, env, []  # type: ignore[var-annotated]

    def __call__(self, command: str, *, expect: tuple[int, ...] = (0,)) -> Result:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        result = Result(command, done.returncode, done.stdout + done.stderr)
        self.log.append(result)
        assert result.code in expect, f"$ {command}\n-> exit {result.code}\n{result.output}"
        return result


@pytest.fixture
def database() -> Iterator[dict[str, str]]:
    db = settings.DATABASES["default"]
    conn = dict(host=db["HOST"], port=str(db["PORT"] or 5432), user=db["USER"])
    name = f"dbgov_adopt_{secrets.token_hex(4)}"
    with psycopg.connect(dbname="postgres", autocommit=True, **conn) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {
            "PGDATABASE": name,
            "PGHOST": conn["host"],
            "PGPORT": conn["port"],
            "PGUSER": conn["user"],
        }
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **conn) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_adopting_md_works_as_written(tmp_path: Path, database: dict[str, str]) -> None:
    # Build from a clean copy: setuptools' build/ folder in the checkout may hold modules
    # that no longer exist, and a wheel built there would ship them.
    source = tmp_path / "src"
    shutil.copytree(
        REPO_ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv*",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
            ".services",
            "artifacts",
            "bench",
            "tests",
            "fixtures",
        ),
    )
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("dbgov-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    project = tmp_path / "project"
    project.mkdir()
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DBGOV_", "PYTHON"))
    }
    keep.pop("DATABASE_URL", None)
    env = {
        **keep,
        **database,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "ALICE_PASSWORD": "pw",
    }
    sh = Shell(project, env)

    # An existing project: Django on PostgreSQL, an app with an applied history.
    sh('pip install -q "Django>=5.2,<7" "psycopg[binary]>=3.1"')
    sh("django-admin startproject mysite .")
    sh("python manage.py startapp shop")
    (project / "shop" / "models.py").write_text(SHOP_MODELS)
    with (project / "mysite" / "settings.py").open("a") as f:
        f.write(PROJECT_SETTINGS)
    sh("python manage.py makemigrations shop -v0 && python manage.py migrate -v0")
    sh(f'python manage.py shell -c "{USERS}"')

    # The page, step by step.
    for step in doc_steps():
        if step.kind == "run":
            codes = (
                tuple(int(c) for c in step.arg.removeprefix("exit=").split(","))
                if step.arg
                else (0,)
            )
            for line in step.body.splitlines():
                command = line.split(" #")[0].strip()
                if not command:
                    continue
                if shlex.split(command) == ["pip", "install", "dbgov"]:
                    command = f"pip install -q {wheel}"  # the wheel just built, not PyPI's
                sh(command, expect=codes)
        else:
            path = project / step.arg
            text = ("\n" + step.body) if step.kind == "append" else step.body
            with path.open("a" if step.kind == "append" else "w") as f:
                f.write(text)

    everything = "\n".join(r.output for r in sh.log)
    assert "Traceback" not in everything
    assert "dbgov.W002" not in everything  # no staging: rehearsal is off, not broken

    baseline = next(r for r in sh.log if "dbgov baseline --as" in r.command)
    recorded = re.search(r"recorded (\d+) finding\(s\)", baseline.output)
    assert recorded and int(recorded.group(1)) > 0, baseline.output  # the app's history
    plan = next(r for r in sh.log if r.command == "python manage.py dbgov plan")
    assert "shop.0002" in plan.output and "T-001" in plan.output
    assert "accepted by the baseline" in plan.output or "Baseline:" in plan.output
    checks = [r for r in sh.log if r.command == "python manage.py dbgov check"]
    assert [c.code for c in checks] == [1, 0]  # blocked, then approved
    assert "[X] 0002" in sh("python manage.py showmigrations shop").output

    # The base install has no extras, and says what to install.
    extras = sh(
        'python -c "import importlib.util as u; '
        "print([m for m in ('celery', 'redis', 'faker', 'yaml') if u.find_spec(m)])\""
    )
    assert extras.output.strip() == "[]"
    seed = sh("python manage.py dbgov seed --status", expect=(2,))
    assert 'pip install "dbgov[seeds]"' in seed.output
    explain = sh("python manage.py dbgov explain --task T-001", expect=(2,))
    assert "no staging database" in explain.output
    assert "Traceback" not in seed.output + explain.output

    # The admin pages answer.
    pages = sh(f"python manage.py shell -c {shlex.quote(ADMIN_PAGES)}")
    answers = {
        url: (code, shows)
        for url, code, shows in (line.split() for line in pages.output.strip().splitlines()[-6:])
    }
    assert {code for code, _ in answers.values()} == {"200"}, pages.output
    assert answers["/admin/dbgov/approvalrequest/"][1] == "True", pages.output  # the queue


FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
COMMAND = re.compile(r"(?:python )?manage\.py (dbgov|migrate|makemigrations)\b([^\n]*)")


def test_every_yaml_block_parses_and_every_command_in_the_page_parses() -> None:
    """The CI recipes and the pre-commit hook as written: valid YAML, and each
    ``manage.py`` command in them (and in the rest of the page) accepted by the real
    command's parser (nothing runs)."""
    import yaml
    from django.core.management import load_command_class

    text = DOC.read_text()
    blocks = FENCE.findall(text)
    for lang, body in blocks:
        if lang == "yaml":
            assert yaml.safe_load(body) is not None
    seen = 0
    for _, body in blocks:
        for name, rest in COMMAND.findall(body):
            rest = re.split(r"\s(?:>|\|\||&&|#)", rest)[0]
            args = shlex.split(
                rest.replace('"$CI_DEFAULT_BRANCH"', "main").replace(
                    "origin/$CI_DEFAULT_BRANCH", "origin/main"
                )
            )
            app = "django.core" if name == "makemigrations" else "dbgov"
            parser = load_command_class(app, name).create_parser("manage.py", name)
            parser.parse_args(args)  # raises CommandError on an unknown option
            seen += 1
    assert seen >= 15
