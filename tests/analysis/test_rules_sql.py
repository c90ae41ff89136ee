"""Every SQL rule has a failing and a passing SQL example beside its code (``Rule.bad``,
``Rule.good``), and ``dbgov lint`` reports them, with suppressions, PostgreSQL versions and new tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbgov.analysis.rules import all_rules
from dbgov.conf import DEFAULTS
from dbgov.lint import LintError, lint_files, lint_sql

from .rule_examples import ALL_ON, SQL_RULES, lint_example, write_examples

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SQL_RULE_IDS = sorted(r.id for r in SQL_RULES)
RULES = {r.id: r for r in all_rules()}


def _fired(plan, rule_id: str) -> list:
    return [f for f in plan.findings if f.rule_id == rule_id and f.suppressed is None]


def test_every_rule_has_both_examples_beside_its_code():
    missing = [r.id for r in all_rules() if not (r.bad.strip() and r.good.strip())]
    assert missing == []
    assert len(SQL_RULE_IDS) >= 45


@pytest.mark.parametrize("rule_id", SQL_RULE_IDS)
def test_rule_fires_on_the_bad_example(rule_id):
    plan = lint_example(RULES[rule_id], "bad")
    hits = _fired(plan, rule_id)
    assert hits, [f.rule_id for f in plan.findings]
    rule = next(r for r in all_rules() if r.id == rule_id)
    assert all(h.severity == rule.severity for h in hits)
    assert all(h.message and h.safe_alternative == rule.safe_alternative for h in hits)


@pytest.mark.parametrize("rule_id", SQL_RULE_IDS)
def test_rule_is_silent_on_the_good_example(rule_id):
    plan = lint_example(RULES[rule_id], "good")
    assert _fired(plan, rule_id) == []


def test_every_rule_is_documented():
    docs = (ROOT / "docs" / "rules.md").read_text()
    for rule in all_rules():
        assert f"### `{rule.id}`" in docs, rule.id
        assert rule.category and rule.summary and rule.why and rule.safe_alternative


def test_findings_carry_lines_locks_and_rewrites():
    plan = lint_sql(
        {
            "m.sql": "SET lock_timeout = '1s';\n\nALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();\n"
        },
        settings=DEFAULTS,
    )
    (hit,) = _fired(plan, "add-column-volatile-default")
    assert hit.line == 3
    assert hit.lock is not None and hit.lock.value == "ACCESS EXCLUSIVE"
    assert hit.rewrites is True
    assert hit.path == "m.sql"


# --- suppressions -------------------------------------------------------------------


def test_suppression_with_reason_is_shown_and_does_not_need_review():
    plan = lint_sql(
        {
            "m.sql": "-- dbgov:ignore drop-column archived to cold storage in T-120\nALTER TABLE t DROP COLUMN c;\n"
        },
        settings=DEFAULTS,
    )
    (f,) = [f for f in plan.findings if f.rule_id == "drop-column"]
    assert f.suppressed == "archived to cold storage in T-120"
    assert not f.needs_review


def test_suppression_on_the_same_line_after_the_statement():
    plan = lint_sql(
        {
            "m.sql": "ALTER TABLE t DROP COLUMN c; -- dbgov:ignore drop-column column unused since 2024\nALTER TABLE t DROP COLUMN d;\n"
        },
        settings=DEFAULTS,
    )
    found = [(f.line, f.suppressed) for f in plan.findings if f.rule_id == "drop-column"]
    assert found == [(1, "column unused since 2024"), (2, None)]


def test_suppression_without_reason_does_not_suppress():
    plan = lint_sql(
        {"m.sql": "-- dbgov:ignore drop-column\nALTER TABLE t DROP COLUMN c;\n"}, settings=DEFAULTS
    )
    (f,) = [f for f in plan.findings if f.rule_id == "drop-column"]
    assert f.suppressed is None and f.needs_review


# --- settings, versions, new tables -----------------------------------------------------


def test_disabled_and_opt_in_rules_and_severity_overrides():
    sql = {"m.sql": "ALTER TABLE t DROP COLUMN c;\nCREATE INDEX CONCURRENTLY i ON t (a);\n"}
    default = lint_sql(sql, settings=DEFAULTS)
    assert _fired(default, "drop-column") and not _fired(default, "prefer-if-exists")
    assert not _fired(default, "lock-timeout-missing")  # opt-in
    tuned = lint_sql(
        sql,
        settings={
            **DEFAULTS,
            "DISABLED_RULES": ["drop-column"],
            "ENABLED_RULES": ["prefer-if-exists", "lock-timeout-missing"],
            "SEVERITY_OVERRIDES": {"lock-timeout-missing": "requires-care"},
        },
    )
    assert not _fired(tuned, "drop-column") and _fired(tuned, "prefer-if-exists")
    assert _fired(tuned, "lock-timeout-missing")[0].severity.value == "requires-care"


@pytest.mark.parametrize(("pg", "fires"), [(10, True), (11, False), (None, False)])
def test_constant_default_rewrites_only_before_pg11(pg, fires):
    plan = lint_sql(
        {"m.sql": "ALTER TABLE t ADD COLUMN n int DEFAULT 0 NOT NULL;"},
        pg_version=pg,
        settings=DEFAULTS,
    )
    assert bool(_fired(plan, "add-column-volatile-default")) is fires


@pytest.mark.parametrize(("pg", "fires"), [(11, True), (12, False)])
def test_enum_add_value_in_a_transaction_before_pg12(pg, fires):
    plan = lint_sql(
        {"m.sql": "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';"},
        pg_version=pg,
        assume_in_transaction=True,
        settings=DEFAULTS,
    )
    assert bool(_fired(plan, "concurrently-in-transaction")) is fires


def test_pg_version_from_settings():
    sql = {"m.sql": "ALTER TABLE t ADD COLUMN n int DEFAULT 0;"}
    assert _fired(
        lint_sql(sql, settings={**DEFAULTS, "PG_VERSION": 10}), "add-column-volatile-default"
    )
    assert not _fired(
        lint_sql(sql, settings={**DEFAULTS, "PG_VERSION": 15}), "add-column-volatile-default"
    )


def test_new_tables_are_not_hot_but_conventions_still_apply():
    plan = lint_sql(
        {
            "m.sql": "CREATE TABLE fresh (id bigint PRIMARY KEY, meta json);\n"
            "ALTER TABLE fresh ADD COLUMN n int NOT NULL;\n"
            "CREATE INDEX fresh_n ON fresh (n);\n"
            "ALTER TABLE old ADD COLUMN n int NOT NULL;\n"
        },
        settings=DEFAULTS,
    )
    not_null = _fired(plan, "add-column-not-null-no-default")
    assert [f.table for f in not_null] == ["old"]
    assert not _fired(plan, "create-index-not-concurrently")
    assert _fired(plan, "prefer-jsonb")


def test_a_foreign_key_target_is_not_a_new_table():
    plan = lint_sql(
        {
            "m.sql": "CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));\nCREATE INDEX orders_s ON orders (s);\n"
        },
        settings=DEFAULTS,
    )
    assert [f.table for f in _fired(plan, "create-index-not-concurrently")] == ["orders"]


def test_unparsable_statement_is_a_finding_and_the_rest_is_analysed():
    plan = lint_sql(
        {"m.sql": "ALTER TABLE t DROP COLUMN c;\nALTER TABLE t ADD COLUMN;\nDROP TABLE u;\n"},
        settings=DEFAULTS,
    )
    (err,) = _fired(plan, "sql-parse-error")
    assert err.line == 2 and "line 2" in err.message
    assert _fired(plan, "drop-column") and _fired(plan, "drop-table")


# --- the commands ------------------------------------------------------------------------


def _run_manage(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("dbgov", *args, stdout=out, stderr=err, no_color=True)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_manage_lint_text_and_exit_codes(tmp_path):
    good = tmp_path / "create-index-not-concurrently.good.sql"
    good.write_text(RULES["create-index-not-concurrently"].good)
    code, out, _ = _run_manage("lint", str(good))
    assert code == 0 and "Nothing needs review." in out
    bad = tmp_path / "drop-column.bad.sql"
    bad.write_text(RULES["drop-column"].bad)
    code, out, _ = _run_manage("lint", str(bad))
    assert code == 1
    assert "drop-column.bad.sql:1: requires-care drop-column" in out


def test_lint_rejects_a_file_that_is_not_utf8(tmp_path):
    bad = tmp_path / "latin1.sql"
    bad.write_bytes("COMMENT ON TABLE t IS 'caf\xe9';".encode("latin-1"))
    with pytest.raises(LintError, match="latin1.sql: not UTF-8"):
        lint_files([str(bad)])


def test_manage_lint_missing_file_is_exit_2():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as exc:
        call_command("dbgov", "lint", "no/such/file.sql")
    assert exc.value.returncode == 2
    assert "no/such/file.sql" in str(exc.value)
    with pytest.raises(LintError):
        lint_files(["no/such/dir"])


def test_lint_directory_json_and_sarif(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.sql").write_text("ALTER TABLE t DROP COLUMN c;\n")
    (tmp_path / "sub" / "b.sql").write_text("SELECT 1;\n")
    (tmp_path / "notes.txt").write_text("DROP TABLE x;")
    code, out, _ = _run_manage("lint", str(tmp_path), "--format", "json")
    assert code == 1
    data = json.loads(out)
    plan_schema = json.loads((ROOT / "dbgov" / "schemas" / "plan.schema.json").read_text())
    jsonschema.validate(data, plan_schema)
    assert data["selection"] == "files"
    assert [m["name"].rsplit("/", 1)[-1] for m in data["migrations"]] == ["a.sql", "b.sql"]
    code, out, _ = _run_manage("lint", str(tmp_path), "--format", "sarif")
    sarif = json.loads(out)
    schema = json.loads((HERE / "schemas" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    results = sarif["runs"][0]["results"]
    assert any(r["ruleId"] == "drop-column" for r in results)
    region = next(r for r in results if r["ruleId"] == "drop-column")["locations"][0][
        "physicalLocation"
    ]["region"]
    assert region["startLine"] == 1


def test_python_m_dbgov_lint_without_a_django_project(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE INDEX i ON t (a);\n")
    good = tmp_path / "good.sql"
    good.write_text("CREATE INDEX CONCURRENTLY i ON t (a);\n")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "dbgov", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = run("lint", str(good))
    assert ok.returncode == 0, ok.stderr
    bad_run = run("lint", "--format", "json", str(bad))
    assert bad_run.returncode == 1
    assert json.loads(bad_run.stdout)["findings"][0]["rule_id"] == "create-index-not-concurrently"
    in_tx = run("lint", "--assume-in-transaction", str(good))
    assert in_tx.returncode == 1 and "concurrently-in-transaction" in in_tx.stdout
    missing = run("lint", "nope.sql")
    assert (
        missing.returncode == 2
        and "nope.sql" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    rules = run("rules", "--format", "json")
    assert rules.returncode == 0
    assert {r["id"] for r in json.loads(rules.stdout)["rules"]} == {r.id for r in all_rules()}


def test_manage_rules_lists_the_catalogue():
    code, out, _ = _run_manage("rules")
    assert code == 0
    for rule in all_rules():
        assert rule.id in out
    code, out, _ = _run_manage("rules", "--format", "json", "--sql-only")
    ids = {r["id"] for r in json.loads(out)["rules"]}
    assert ids == set(SQL_RULE_IDS)


def test_rules_doc_is_generated_from_the_catalogue():
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_rules.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- never crashes ---------------------------------------------------------------------

_CORPUS = [example for r in SQL_RULES for example in (r.bad, r.good)]


@st.composite
def _mutated_scripts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(_CORPUS), min_size=1, max_size=4))
    text = "\n".join(parts)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(text)))
        chunk = draw(
            st.sampled_from(
                [";", "(", ")", "'", " NOT VALID", " CONCURRENTLY", "BEGIN;", "--", "x" * 70, "é"]
            )
        )
        cut = draw(st.integers(0, 3))
        text = text[:pos] + chunk + text[pos + cut :]
    return text


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_scripts(), st.booleans(), st.sampled_from([None, 10, 11, 12, 17]))
def test_lint_never_raises_on_mutated_sql(script, in_tx, pg):
    plan = lint_sql({"m.sql": script}, assume_in_transaction=in_tx, pg_version=pg, settings=ALL_ON)
    for f in plan.findings:
        assert f.rule_id and f.message
    assert all(
        s.facts is not None and s.facts.details.analysis_error is None
        for s in plan.migrations[0].operations[0].statements
    )


@pytest.mark.parametrize(
    ("script", "pg", "fires"),
    [
        # the validated CHECK proves NOT NULL on 12+, not before
        (
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\nALTER TABLE t ALTER a SET NOT NULL;",
            12,
            False,
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\nALTER TABLE t ALTER a SET NOT NULL;",
            11,
            True,
        ),
        # NOT VALID alone proves nothing; another column or constraint neither
        (
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t ALTER a SET NOT NULL;",
            15,
            True,
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT c CHECK (b IS NOT NULL);\nALTER TABLE t ALTER a SET NOT NULL;",
            15,
            True,
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT other;\nALTER TABLE t ALTER a SET NOT NULL;",
            15,
            True,
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL);\nALTER TABLE t ALTER a SET NOT NULL;",
            15,
            False,
        ),
    ],
)
def test_set_not_null_after_a_validated_check(script, pg, fires):
    plan = lint_sql({"m.sql": script}, pg_version=pg, settings=DEFAULTS)
    assert bool(_fired(plan, "set-not-null")) is fires


def test_a_table_is_new_only_in_the_file_that_creates_it():
    plan = lint_sql(
        {
            "0001.sql": "CREATE TABLE posts (id bigint PRIMARY KEY, body text);\nCREATE INDEX posts_body ON posts (body);\n",
            "0002.sql": "CREATE INDEX posts_body2 ON posts (body);\n",
        },
        settings=DEFAULTS,
    )
    assert [f.migration for f in _fired(plan, "create-index-not-concurrently")] == ["0002.sql"]


@pytest.mark.parametrize(
    ("type_sql", "fires"),
    [
        ("timestamp", True),
        ("timestamp(3)", True),
        ("timestamp without time zone", True),
        ("timestamptz", False),
        ("timestamptz(3)", False),
        ("timestamp with time zone", False),
        ("timestamp(6) with time zone", False),
    ],
)
def test_prefer_timestamptz_spellings(type_sql, fires):
    plan = lint_sql({"m.sql": f"ALTER TABLE t ADD COLUMN at {type_sql};"}, settings=DEFAULTS)
    assert bool(_fired(plan, "prefer-timestamptz")) is fires


def test_parallel_lint_gives_the_same_report_as_one_process(tmp_path):
    files = [str(p) for p in write_examples(tmp_path)]
    one = lint_files(files, jobs=1, settings=ALL_ON)
    many = lint_files(files, jobs=2, settings=ALL_ON)
    assert [m.name for m in many.migrations] == [m.name for m in one.migrations]
    assert [(f.migration, f.line, f.rule_id, f.message) for f in many.findings] == [
        (f.migration, f.line, f.rule_id, f.message) for f in one.findings
    ]


@pytest.mark.parametrize(
    ("prefix", "fires"),
    [
        ("", True),
        ("SET lock_timeout = '2s';\n", False),
        ("SET LOCAL statement_timeout TO 5000;\n", False),
        ("SELECT set_config('lock_timeout', '2s', false);\n", False),
        ("SET lock_timeout = 0;\n", True),
        ("SET lock_timeout = '2s';\nSET lock_timeout TO DEFAULT;\n", True),
    ],
)
def test_lock_timeout_in_force(prefix, fires):
    settings_on = {**DEFAULTS, "ENABLED_RULES": ["lock-timeout-missing"]}
    plan = lint_sql({"m.sql": prefix + "ALTER TABLE t ADD COLUMN c text;"}, settings=settings_on)
    assert bool(_fired(plan, "lock-timeout-missing")) is fires


def test_large_inputs_lint_in_parallel_with_the_same_findings(tmp_path):
    from dbgov.lint import PARALLEL_MIN_FILES, _workers, lint_files

    assert _workers(PARALLEL_MIN_FILES - 1, None) == 1
    assert _workers(PARALLEL_MIN_FILES, None) == min(len(os.sched_getaffinity(0)), 4)
    for i in range(PARALLEL_MIN_FILES):
        (tmp_path / f"{i:03d}.sql").write_text(
            f"CREATE INDEX i{i} ON t{i} (c);\nALTER TABLE t{i} ADD COLUMN x int NOT NULL;\n"
        )
    serial = lint_files([str(tmp_path)], jobs=1)
    parallel = lint_files([str(tmp_path)])
    key = lambda f: (f.path, f.statement_index, f.rule_id)  # noqa: E731
    assert sorted(map(key, parallel.findings)) == sorted(map(key, serial.findings))
    assert len(serial.findings) >= 2 * PARALLEL_MIN_FILES
