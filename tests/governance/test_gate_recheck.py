"""The gate re-checks each approval; four eyes covers owners, requesters and authors;
waivers stop below UNWAIVABLE_SEVERITY; unknown tasks never make findings approvable."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from dbgov.analysis import model as am
from dbgov.conf import DEFAULTS
from dbgov.governance import services
from dbgov.governance.authors import git_author_email, record_authors
from dbgov.governance.gate import governed_apps, run_gate
from dbgov.lint import lint_sql
from dbgov.models import Approval, ApprovalRequest, AuditEvent, MigrationAuthor, Task

from .conftest import build_plan, finding, migration

pytestmark = pytest.mark.django_db


def request_for(rule: str) -> ApprovalRequest:
    return ApprovalRequest.objects.exclude(status="stale").get(rule_id=rule)


def fk_state(plan: am.Plan) -> services.ReviewState:
    result = services.gate(plan)
    (state,) = [
        b.state for b in result.blocked + result.passed if b.finding.rule_id == "fk-cascade"
    ]
    return state


def test_approval_counts_only_if_the_reviewer_held_the_permission_when_deciding(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan)
    r = request_for("fk-cascade")
    # a row written by code that skipped the permission check: signed, but it says so
    Approval.objects.create(
        request=r,
        fingerprint=r.fingerprint,
        decision="approved",
        reviewer=users["dba2"],
        reason="ok",
        reviewer_permitted=False,
    )
    state = fk_state(t021_plan)
    assert state.approvals == []
    assert state.discounted[0].discounted.startswith("the reviewer did not hold")
    # losing the permission later does not withdraw a decision taken with it
    services.approve(r, user=users["dba"], reason="intended")
    users["dba"].groups.clear()
    assert [a.reviewer for a in fk_state(t021_plan).approvals] == ["dba"]


def test_approval_of_a_deactivated_reviewer_does_not_count(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan)
    services.approve(request_for("fk-cascade"), user=users["dba"], reason="intended")
    assert fk_state(t021_plan).passes
    users["dba"].is_active = False
    users["dba"].save()
    state = fk_state(t021_plan)
    assert not state.passes and "no longer active" in state.discounted[0].discounted


def test_requester_and_task_owner_approvals_do_not_count_even_if_written(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    services.save_plan(t021_plan, author=users["dba2"])
    r = request_for("fk-cascade")
    assert r.requested_by_id == users["dba2"].pk
    # the owner changes after the decision: four eyes is judged at gate time
    services.approve(r, user=users["dba"], reason="intended")
    Task.objects.filter(key="T-021").update(owner=users["dba"])
    state = fk_state(t021_plan)
    assert not state.passes and state.discounted[0].discounted == (
        "four eyes: the reviewer owns the task"
    )


def test_migration_author_never_decides(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    MigrationAuthor.objects.create(
        app_label="shop", name="0002_orders", user=users["dba"], source="git", email="x@y"
    )
    services.save_plan(t021_plan)
    r = request_for("fk-cascade")
    ok, why = services.can_decide(users["dba"], r)
    assert not ok and "own task, plan or migration" in why
    with pytest.raises(services.GovernanceError, match="Four eyes"):
        services.approve(r, user=users["dba"], reason="mine")
    # PostgreSQL refuses it too
    with pytest.raises(IntegrityError, match="four eyes"), transaction.atomic():
        Approval.objects.create(
            request=r,
            fingerprint=r.fingerprint,
            decision="approved",
            reviewer=users["dba"],
            reason="x",
            reviewer_permitted=True,
        )
    # and authors are append-only
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        MigrationAuthor.objects.filter(user=users["dba"]).delete()


def test_self_approval_via_an_unknown_task_is_impossible(
    shop_pending: None, users: dict[str, Any]
) -> None:
    # the author names a task nobody created: a draft without owner appears ...
    m = migration("0002_orders", "T-999", ops=2)
    plan = build_plan(m, findings=[finding(m, 1, "fk-cascade")])
    services.save_plan(plan, author=users["dev"])
    assert Task.objects.get(key="T-999").owner is None
    r = request_for("fk-cascade")
    # ... on which nobody decides, not even a DBA ...
    with pytest.raises(services.GovernanceError, match="T-999 has no owner"):
        services.approve(r, user=users["dba"], reason="looks fine")
    # ... and a decision written anyway does not count at the gate
    Approval.objects.create(
        request=r,
        fingerprint=r.fingerprint,
        decision="approved",
        reviewer=users["dba"],
        reason="x",
        reviewer_permitted=True,
    )
    result = services.gate(plan)
    (blocked,) = result.blocked
    assert blocked.state.task_without_owner == "T-999" and blocked.state.approvals == []
    # once the task has an owner, a DBA's approval counts
    Task.objects.filter(key="T-999").update(owner=users["dev"])
    assert services.gate(plan).ok


def test_waiver_of_a_never_without_a_plan_finding_is_refused() -> None:
    sql = {
        "m.sql": "-- dbgov:ignore drop-table nobody reads it\nDROP TABLE shop_legacy;\n"
        "-- dbgov:ignore drop-column unused since 2024\nALTER TABLE t DROP COLUMN c;\n"
    }
    plan = lint_sql(sql, settings=DEFAULTS)
    (drop,) = [f for f in plan.findings if f.rule_id == "drop-table"]
    assert drop.suppressed is None and drop.needs_review
    assert "waiver refused: 'nobody reads it'" in drop.message
    (col,) = [f for f in plan.findings if f.rule_id == "drop-column"]
    assert col.suppressed == "unused since 2024"  # below the threshold: still waivable
    # the threshold is a setting
    plan = lint_sql(sql, settings={**DEFAULTS, "UNWAIVABLE_SEVERITY": None})
    assert all(f.suppressed for f in plan.findings if f.rule_id in ("drop-table", "drop-column"))


def test_migration_waiver_attribute_is_limited_too() -> None:
    from dbgov.analysis.facts import attach_facts
    from dbgov.analysis.rules import evaluate

    m = am.Migration(
        app_label="shop",
        name="0099_drop",
        path="project/shop/migrations/0099_drop.py",
        task="T-1",
        atomic=True,
        operations=[
            am.Operation(
                index=0,
                type="RunSQL",
                description="raw SQL",
                statements=[am.Statement(sql="DROP TABLE shop_legacy;")],
            )
        ],
        ignores={-1: {"drop-table": "archived"}},  # dbgov_ignore = {"drop-table": ...}
    )
    plan = am.Plan(database="default", server_version=150000, migrations=[m])
    attach_facts(plan)
    drops = [f for f in evaluate(plan, settings=DEFAULTS, scope="sql") if f.rule_id == "drop-table"]
    assert drops and all(
        f.needs_review and "waiver refused: 'archived'" in f.message for f in drops
    )


def test_git_author_is_the_author_of_the_commit_that_added_the_file(
    tmp_path: Path, users: dict[str, Any]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = ["-c", "user.name=x", "-c", "commit.gpgsign=false"]

    def git(*args: str) -> None:
        subprocess.run(["git", *env, *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    f = repo / "0042_x.py"
    f.write_text("# added\n")
    git("add", ".")
    git("-c", "user.email=dba@example.com", "commit", "-qm", "add")
    f.write_text("# changed by someone else\n")
    git("-c", "user.email=other@example.com", "commit", "-qam", "edit")
    assert git_author_email(f) == "dba@example.com"
    users["dba"].email = "DBA@example.com"
    users["dba"].save()
    record_authors([("shop", "0042_x", str(f))])
    (author,) = MigrationAuthor.objects.filter(name="0042_x")
    assert (author.user, author.source) == (users["dba"], "git")
    assert AuditEvent.objects.filter(action="migration.author", subject="shop.0042_x").exists()
    record_authors([("shop", "0042_x", str(f))])  # recorded once
    assert MigrationAuthor.objects.filter(name="0042_x").count() == 1


def test_governed_apps_default_to_the_project_apps() -> None:
    apps = governed_apps()
    assert "shop" in apps
    assert not apps & {"auth", "contenttypes", "admin", "sessions", "dbgov"}
    with override_settings(DBGOV={"GOVERNED_APPS": ["auth"]}):
        assert governed_apps() == {"auth"}


def test_ungoverned_apps_pass_the_gate(t021_plan: am.Plan, tasks: Any) -> None:
    services.save_plan(t021_plan)
    assert not run_gate("default", plan=t021_plan).ok
    with override_settings(DBGOV={"GOVERNED_APPS": ["auth"]}):
        run = run_gate("default", plan=t021_plan)
    assert run.ok
    assert set(run.ungoverned) == {"shop.0002_orders", "shop.0005_rename_order_total"}


def test_makemigrations_records_its_author(users: dict[str, Any], tmp_path: Path) -> None:
    from dbgov.governance.authors import record_makemigrations_author

    record_makemigrations_author("shop", "0077_new", user=users["dev"])
    (author,) = MigrationAuthor.objects.filter(name="0077_new")
    assert (author.user, author.source) == (users["dev"], "makemigrations")


def test_moving_a_request_to_another_task_does_not_let_the_owner_approve(
    t021_plan: am.Plan, users: dict[str, Any], tasks: Any
) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    services.save_plan(t021_plan)
    r = request_for("fk-cascade")  # T-021 (its migration file says so), owned by dev
    users["dev"].groups.add(Group.objects.get(name="DBA"))  # dev may now approve others'
    other = Task.objects.create(key="T-500", title="someone else's", owner=users["dba2"])
    with connection.cursor() as cursor:  # the request's task is not a frozen column
        cursor.execute(
            "UPDATE dbgov_approvalrequest SET task_id = %s WHERE id = %s", [other.pk, r.pk]
        )
    from django.contrib.auth.models import User

    dev = User.objects.get(pk=users["dev"].pk)  # fresh permission cache
    services.approve(r.pk, user=dev, reason="not mine any more")
    state = fk_state(t021_plan)
    assert not state.passes
    assert state.discounted[0].discounted == (
        "four eyes: the reviewer owns the task the migration names"
    )
