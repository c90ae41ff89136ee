"""Attacks on the governance tables, tried on real PostgreSQL: each is refused by the
database or detected by the signed chains (``dbgov verify``, ``check``, the gate)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from dbgov.analysis import model as am
from dbgov.governance import integrity, services
from dbgov.governance.gate import run_gate
from dbgov.models import Approval, ApprovalRequest, AuditEvent, ChainHead, Ledger

pytestmark = pytest.mark.django_db


def raw(sql: str, params: list[Any] | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # the test's open transaction holds deferred FK checks; ALTER TABLE needs none
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(sql, params or [])


def verify_cli(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("dbgov", "verify", *args, stdout=out, stderr=StringIO())
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def kinds(violations: list[integrity.Violation]) -> set[tuple[str, str]]:
    return {(v.table, v.kind) for v in violations}


@pytest.fixture
def decided(t021_plan: am.Plan, users: dict[str, Any], tasks: dict[str, Any]) -> Approval:
    services.save_plan(t021_plan)
    request = ApprovalRequest.objects.get(rule_id="fk-cascade")
    return services.approve(request, user=users["dba"], reason="orders are deleted by GDPR jobs")


def test_rows_are_signed_and_chained(decided: Approval) -> None:
    assert decided.seq == 1 and decided.prev_digest == integrity.GENESIS
    assert len(decided.digest) == 64 and decided.key_id
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(b.prev_digest == a.digest for a, b in zip(events, events[1:], strict=False))
    head = ChainHead.objects.get(table="dbgov_auditevent")
    assert (head.seq, head.digest) == (events[-1].seq, events[-1].digest)
    assert integrity.verify() == []
    assert verify_cli() == (0, verify_cli()[1])
    assert "intact" in verify_cli()[1]


def test_forged_approval_insert_is_detected_and_does_not_count(
    decided: Approval, t021_plan: am.Plan, users: dict[str, Any]
) -> None:
    # dba2 holds the permission; dev2-style: a user without it, inserted directly
    from django.contrib.auth.models import User

    mallory = User.objects.create_user("mallory", is_staff=True)
    request = ApprovalRequest.objects.get(rule_id="rename-column")  # needs 2 approvals
    for user in (mallory, users["dba2"]):
        raw(
            "INSERT INTO dbgov_approval (request_id, fingerprint, decision, reviewer_id, reason,"
            " created_at, reviewer_permitted) VALUES (%s, %s, 'approved', %s, 'lgtm', now(), true)",
            [request.pk, request.fingerprint, user.pk],
        )
    forged = list(Approval.objects.filter(request=request))
    result = services.gate(t021_plan)
    blocked = {b.finding.rule_id: b.state for b in result.blocked}
    assert "rename-column" in blocked
    state = blocked["rename-column"]
    assert state.approvals == [] and len(state.discounted) == 2
    assert all("integrity-violation" in a.discounted for a in state.discounted)
    violations = integrity.verify()
    assert {(v.kind, v.row_id) for v in violations} >= {("unsigned", a.pk) for a in forged}
    code, out = verify_cli()
    assert code == 1
    assert f"integrity-violation: dbgov_approval row id {forged[0].pk} is not in the chain" in out


def test_forged_row_with_chain_fields_does_not_verify(decided: Approval) -> None:
    # the attacker copies the chain fields of the last row: without the key, no digest fits
    raw(
        "INSERT INTO dbgov_approval (request_id, fingerprint, decision, reviewer_id, reason,"
        " created_at, reviewer_permitted, seq, prev_digest, digest, key_id)"
        " SELECT request_id, fingerprint, decision, reviewer_id, 'again', created_at,"
        " reviewer_permitted, seq + 1, digest, md5(digest) || md5(digest), key_id"
        " FROM dbgov_approval WHERE id = %s",
        [decided.pk],
    )
    found = integrity.verify_table(Approval)
    assert ("dbgov_approval", "forged") in kinds(found)
    assert ("dbgov_approval", "head") in kinds(found)  # appended past the head


def test_forged_ledger_insert_cannot_hide_an_edited_migration(
    db: Any, tmp_path: Path, settings: Any
) -> None:
    from dbgov.governance.gate import run_gate  # noqa: F401  (the shared gate reads the ledger)

    services.record_ledger(
        [(_FakeMigration("shop", "0001_products"), False)], using="default", app_label="shop"
    )
    signed = Ledger.objects.filter(name="0001_products").order_by("-seq").first()
    assert signed is not None and signed.digest and integrity.verify() == []
    # the attacker edits the applied migration and INSERTs a ledger row with its new hash
    raw(
        "INSERT INTO dbgov_ledger (database, app_label, name, action, sha256, path, recorded_at,"
        " sql_sha256) VALUES ('default', 'shop', '0001_products', 'applied', %s, '', now(), '')",
        ["f" * 64],
    )
    findings = services.integrity_findings("default")
    changed = [f for f in findings if f.migration == "0001_products"]
    assert changed == [] or changed[0].rule_id == "applied-migration-changed"
    # the forged row is not believed: the signed one still speaks for what was applied
    assert ("dbgov_ledger", "unsigned") in kinds(integrity.verify())


class _FakeMigration:
    """A loaded migration as the executor hands it to the ledger (the real file)."""

    def __init__(self, app_label: str, name: str) -> None:
        import importlib

        self.app_label, self.name = app_label, name
        self.__module__ = importlib.import_module(f"project.{app_label}.migrations.{name}").__name__


def test_pgtrigger_ignore_does_not_skip_the_guards(
    t021_plan: am.Plan, users: dict[str, Any], tasks: dict[str, Any], decided: Approval
) -> None:
    request = ApprovalRequest.objects.get(rule_id="fk-cascade")  # T-021, owned by dev
    with connection.cursor() as cursor:
        cursor.execute("SELECT array_agg(tgname) FROM pg_trigger WHERE tgname LIKE 'pgtrigger_%%'")
        every_pgtrigger = cursor.fetchone()[0]
    ignore = "{" + ",".join(every_pgtrigger) + "}"
    with (
        pytest.raises(DatabaseError, match="four eyes"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL pgtrigger.ignore = %s", [ignore])
        cursor.execute(
            "INSERT INTO dbgov_approval (request_id, fingerprint, decision, reviewer_id,"
            " reason, created_at) VALUES (%s, %s, 'approved', %s, 'mine', now())",
            [request.pk, request.fingerprint, users["dev"].pk],
        )
    for table in ("dbgov_ledger", "dbgov_auditevent", "dbgov_approval"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL pgtrigger.ignore = %s", [ignore])
            cursor.execute(f"DELETE FROM {table}")
    # the finding a request records (its migration: the author check reads it) stays
    for sql in (
        "UPDATE dbgov_approvalrequest SET migration_name = 'elsewhere'",
        "DELETE FROM dbgov_approvalrequest",
    ):
        with (
            pytest.raises(DatabaseError, match=r"(?i)cannot (update|delete) rows"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL pgtrigger.ignore = %s", [ignore])
            cursor.execute(sql)
    # replica mode (what logical replication and pg_restore use) does not skip them either
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM dbgov_approval")
    assert Approval.objects.filter(pk=decided.pk).exists()


def test_trigger_disabled_by_the_owner_then_rows_deleted_is_detected(decided: Approval) -> None:
    services.audit("test.later")
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 3
    victim = events[1]
    # the table owner (the migrator) can disable every trigger; nothing refuses then
    raw(
        "ALTER TABLE dbgov_auditevent DISABLE TRIGGER ALL;"
        f" DELETE FROM dbgov_auditevent WHERE id = {victim.pk};"
        " ALTER TABLE dbgov_auditevent ENABLE TRIGGER ALL;"
    )
    found = integrity.verify()
    assert [(v.table, v.kind, v.seq) for v in found] == [
        ("dbgov_auditevent", "missing", victim.seq)
    ]
    assert f"rows seq {victim.seq}..{victim.seq} are missing after row id {events[0].pk}" in (
        found[0].message
    )


def test_superuser_edits_reorders_and_truncates_are_detected(decided: Approval) -> None:
    events = list(AuditEvent.objects.order_by("seq"))
    raw(
        "ALTER TABLE dbgov_auditevent DISABLE TRIGGER USER;"
        f" UPDATE dbgov_auditevent SET reason = 'nothing to see' WHERE id = {events[0].pk};"
        " ALTER TABLE dbgov_auditevent ENABLE TRIGGER USER;"
    )
    (v,) = integrity.verify()
    assert (v.kind, v.row_id) == ("forged", events[0].pk)
    assert f"dbgov_auditevent row id {events[0].pk} (seq 1)" in v.message


def test_reordered_rows_are_detected(decided: Approval) -> None:
    a, b = list(AuditEvent.objects.order_by("seq"))[:2]
    raw(
        "ALTER TABLE dbgov_auditevent DISABLE TRIGGER USER;"
        f" UPDATE dbgov_auditevent SET seq = -1 WHERE id = {a.pk};"
        f" UPDATE dbgov_auditevent SET seq = {a.seq} WHERE id = {b.pk};"
        f" UPDATE dbgov_auditevent SET seq = {b.seq} WHERE id = {a.pk};"
        " ALTER TABLE dbgov_auditevent ENABLE TRIGGER USER;"
    )
    assert {(v.kind, v.row_id) for v in integrity.verify()} >= {
        ("out-of-order", b.pk),
        ("forged", b.pk),
    }


def test_truncate_by_the_owner_is_detected(decided: Approval) -> None:
    raw("TRUNCATE dbgov_ledger, dbgov_auditevent")
    found = integrity.verify()
    assert {(v.table, v.kind) for v in found} == {
        ("dbgov_auditevent", "missing"),
        ("dbgov_ledger", "missing"),
    }
    assert all("the table truncated" in v.message for v in found)
    assert verify_cli()[0] == 1


def test_witness_detects_a_rewrite_of_chain_and_head(decided: Approval, tmp_path: Path) -> None:
    file = tmp_path / "witness.json"
    code, _ = verify_cli("--export-witness", str(file))
    assert code == 0
    assert json.loads(file.read_text())["heads"]["dbgov_approval"]["seq"] == 1
    # a superuser removes every trace, heads included: the chains alone look fresh
    raw(
        "ALTER TABLE dbgov_chainhead DISABLE TRIGGER USER;"
        " TRUNCATE dbgov_approval, dbgov_auditevent, dbgov_ledger, dbgov_chainhead;"
        " ALTER TABLE dbgov_chainhead ENABLE TRIGGER USER;"
    )
    assert integrity.verify() == []
    code, out = verify_cli("--witness", str(file))
    assert code == 1
    assert "dbgov_approval: the witness saw seq 1, which the table no longer holds" in out


def test_bad_witness_file_is_a_clear_error(db: Any, tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    file = tmp_path / "w.json"
    file.write_text("{not json")
    with pytest.raises(CommandError, match=r"w\.json: not a witness file"):
        call_command("dbgov", "verify", "--witness", str(file), stdout=StringIO())


def test_acknowledged_incident_passes_new_violations_do_not(decided: Approval) -> None:
    victim = list(AuditEvent.objects.order_by("seq"))[1]
    raw(
        "ALTER TABLE dbgov_auditevent DISABLE TRIGGER USER;"
        f" DELETE FROM dbgov_auditevent WHERE id = {victim.pk};"
        " ALTER TABLE dbgov_auditevent ENABLE TRIGGER USER;"
    )
    code, out = verify_cli("--acknowledge", "INC-7: restored from backup, row lost")
    assert code == 0 and "acknowledged integrity-violation" in out
    event = AuditEvent.objects.get(action="integrity.acknowledged")
    assert event.reason.startswith("INC-7")
    assert verify_cli()[0] == 0
    # a new break is not covered by the old acknowledgement
    raw(
        "ALTER TABLE dbgov_approval DISABLE TRIGGER USER;"
        f" UPDATE dbgov_approval SET reason = 'x' WHERE id = {decided.pk};"
        " ALTER TABLE dbgov_approval ENABLE TRIGGER USER;"
    )
    code, out = verify_cli()
    assert code == 1 and f"dbgov_approval row id {decided.pk}" in out


def test_key_rotation(decided: Approval) -> None:
    old_key_id = decided.key_id
    with override_settings(DBGOV={"SIGNING_KEYS": ["new-key-0123456789", "unused"]}):
        # the new key signs, the derived key no longer verifies: its rows are unknown
        assert ("dbgov_approval", "unknown-key") in kinds(integrity.verify())
    from dbgov.governance.integrity import signing_keys

    derived = signing_keys()[0][1]
    with override_settings(DBGOV={"SIGNING_KEYS": ["new-key-0123456789", derived]}):
        assert integrity.verify() == []
        services.audit("test.rotated")
        latest = AuditEvent.objects.order_by("-seq").first()
        assert latest is not None and latest.key_id != old_key_id
        assert integrity.verify() == []


def test_check_fails_on_integrity_violation(decided: Approval, t021_plan: am.Plan) -> None:
    raw(
        "ALTER TABLE dbgov_approval DISABLE TRIGGER USER;"
        f" UPDATE dbgov_approval SET reason = 'edited' WHERE id = {decided.pk};"
        " ALTER TABLE dbgov_approval ENABLE TRIGGER USER;"
    )
    run = run_gate("default", plan=t021_plan)
    assert not run.ok and run.exit_code == 1
    assert [v.row_id for v in run.violations] == [decided.pk]
    doc = run.as_dict()
    assert doc["integrity"][0]["rule_id"] == "integrity-violation"
    # the edited approval itself no longer counts either
    (state,) = [b.state for b in run.result.blocked if b.finding.rule_id == "fk-cascade"]
    assert state.approvals == [] and state.discounted


def test_concurrent_appends_serialise_on_the_head(transactional_db: Any) -> None:
    import threading

    from django.db import connections

    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(10):
                services.audit("test.concurrent", subject=f"{n}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 41))
    assert integrity.verify() == []


def test_plan_reports_integrity_violations_too(decided: Approval) -> None:
    raw(
        "ALTER TABLE dbgov_approval DISABLE TRIGGER USER;"
        f" DELETE FROM dbgov_approval WHERE id = {decided.pk};"
        " ALTER TABLE dbgov_approval ENABLE TRIGGER USER;"
    )
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("dbgov", "plan", "--no-save", "--no-sql", stdout=out, stderr=StringIO())
    assert exc.value.code == 1
    assert "integrity-violation: dbgov_approval" in out.getvalue()
