"""The baseline: today's findings on the applied history are accepted once (stored,
audited, append-only, hash-chained); plan and check then gate only new findings and say
how many the baseline holds."""

from __future__ import annotations

import io
import json

import pgtrigger
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction

from dbgov.models import AuditEvent, BaselineFinding

pytestmark = pytest.mark.django_db


def dbgov(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("dbgov", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def history(scratch_db: str) -> str:
    """shop's history applied up to 0004 (its hazards are history); 0005+ are pending."""
    call_command("migrate", "shop", "0004", database=scratch_db, verbosity=0)
    return scratch_db


def review_findings(plan_json: str, applied: bool) -> list[dict]:
    """Findings needing review on applied migrations (every app, shop up to 0004) or not."""
    doc = json.loads(plan_json)

    def is_applied(f: dict) -> bool:
        return not (f["app_label"] == "shop" and (f["migration"] or "") >= "0005")

    return [f for f in doc["findings"] if f["needs_review"] and is_applied(f) is applied]


def test_baseline_accepts_the_applied_history_and_gates_only_new_findings(history: str) -> None:
    code, out, _ = dbgov("plan", "--all", "--no-save", "--database", history, "--format", "json")
    assert code == 1
    before_applied = review_findings(out, applied=True)
    before_pending = review_findings(out, applied=False)
    assert before_applied and before_pending  # the history and the new work both need review

    code, out, _ = dbgov("baseline", "--database", history, "--format", "json")
    assert code == 0
    record = json.loads(out)
    assert record["recorded"] == len(before_applied) == BaselineFinding.objects.count()
    assert record["applied_migrations"] >= 4
    event = AuditEvent.objects.get(action="baseline.recorded")
    assert event.data["recorded"] == record["recorded"]

    # recording again adds nothing: the same findings are already accepted
    code, out, _ = dbgov("baseline", "--database", history, "--format", "json")
    assert (json.loads(out)["recorded"], json.loads(out)["already"]) == (0, len(before_applied))

    code, out, _ = dbgov("plan", "--all", "--no-save", "--database", history, "--format", "json")
    assert review_findings(out, applied=True) == []
    assert review_findings(out, applied=False) == before_pending  # never retroactively
    assert code == 1

    code, out, _ = dbgov("plan", "--all", "--no-save", "--database", history, "--no-sql")
    assert f"accepted by the baseline and not shown ({len(before_applied)} in the baseline" in out

    code, out, _ = dbgov("check", "--database", history)
    assert code == 1  # the pending hazards still lack approvals
    assert f"Baseline: {len(before_applied)} accepted finding(s) of the applied history" in out


def test_the_baseline_is_append_only_and_its_chain_detects_tampering(history: str) -> None:
    dbgov("baseline", "--database", history)
    code, out, _ = dbgov("baseline", "--status")
    assert code == 0 and "Hash chain intact." in out
    row = BaselineFinding.objects.order_by("id").first()
    assert row is not None
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        BaselineFinding.objects.filter(pk=row.pk).update(message="nothing to see")
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        BaselineFinding.objects.filter(pk=row.pk).delete()
    # Someone with the power to bypass the trigger edits a row: the chain shows it.
    with pgtrigger.ignore("dbgov.BaselineFinding:append_only_update"):
        BaselineFinding.objects.filter(pk=row.pk).update(rule_id="something-else")
    with pytest.raises(CommandError) as raised:
        call_command("dbgov", "baseline", "--status", stdout=io.StringIO())
    assert raised.value.returncode == 2
    assert f"hash chain is broken at row {row.pk}" in str(raised.value)


def test_recording_as_someone_needs_their_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib.auth.models import User

    User.objects.create_user("alice", password="alice-pass")
    monkeypatch.delenv("DBGOV_APPROVER_PASSWORD", raising=False)
    with pytest.raises(CommandError) as raised:
        call_command("dbgov", "baseline", "--as", "alice", stdout=io.StringIO())
    assert raised.value.returncode == 2
    assert "give alice's password" in str(raised.value)
    monkeypatch.setenv("DBGOV_APPROVER_PASSWORD", "wrong")
    with pytest.raises(CommandError, match="wrong password"):
        call_command("dbgov", "baseline", "--as", "alice", stdout=io.StringIO())
    assert not BaselineFinding.objects.exists()
