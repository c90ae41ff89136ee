"""dbgov seed: idempotency, reload semantics, dependency order, all-or-nothing, safety."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from dbgov.models import SeedLoad, Task
from dbgov.seeds import SeedError, seed, seed_status
from project.shop.models import Order, OrderItem, Product

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
        "items": OrderItem.objects.count(),
        "loads": SeedLoad.objects.count(),
    }


# -- idempotency and order ---------------------------------------------------------


def test_loads_in_foreign_key_order_not_file_name_order(data_dir: Path) -> None:
    report = seed("order")
    # a_items.json < b_orders.json < c_users.yaml by name; by foreign keys it is the reverse
    # (orders name their users by natural key, so users must exist first).
    assert report.order.index("model:auth.user") < report.order.index("model:shop.order")
    assert report.order.index("model:shop.order") < report.order.index("model:shop.orderitem")
    assert report.order.index("model:shop.product") < report.order.index("model:shop.orderitem")
    assert [f.action for f in report.files] == ["loaded", "loaded", "loaded"]
    assert Order.objects.get(pk=501).user.username == "alice"
    assert OrderItem.objects.filter(order_id__in=[501, 502]).count() == 2


def test_second_run_skips_unchanged_files(data_dir: Path) -> None:
    first = seed("order")
    before = counts()
    second = seed("order")
    assert [f.action for f in second.files] == ["skipped"] * 3
    assert second.rows == 0
    assert [f.rows for f in second.files] == [f.rows for f in first.files]
    assert counts() == before  # no duplicates, no new SeedLoad records


def test_each_load_is_recorded(data_dir: Path) -> None:
    seed("order")
    record = SeedLoad.objects.get(path__endswith="order/b_orders.json")
    assert record.environment == "order"
    assert record.database == "default"
    assert record.kind == "fixture"
    assert record.rows == 2
    assert len(record.sha256) == 64
    assert record.duration_ms >= 0
    assert record.row_keys == {"shop.order": [[501, 502]]}


def test_records_are_append_only(data_dir: Path) -> None:
    from django.db import ProgrammingError, transaction

    seed("order")
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        SeedLoad.objects.update(rows=0)


def test_auto_now_fields_left_out_get_the_load_time(data_dir: Path) -> None:
    seed("order")
    order = Order.objects.get(pk=501)
    assert order.created_at is not None and order.updated_at is not None


# -- reload of a changed file --------------------------------------------------------


def test_changed_file_is_reloaded_by_natural_and_primary_key(
    scratch: Callable[[str, str], Path],
) -> None:
    folder = scratch("order", "dev")
    seed("dev")
    alice_pk = User.objects.get(username="alice").pk
    created = Order.objects.get(pk=501).created_at

    users = folder / "c_users.yaml"
    users.write_text(users.read_text().replace("first_name: Alice", "first_name: Alicia"))
    orders = folder / "b_orders.json"
    data = json.loads(orders.read_text())
    data[0]["fields"]["status"] = "shipped"
    orders.write_text(json.dumps(data))

    report = seed("dev")
    actions = {Path(f.path).name: f.action for f in report.files}
    assert actions == {
        "a_items.json": "skipped",
        "b_orders.json": "reloaded",
        "c_users.yaml": "reloaded",
    }
    alice = User.objects.get(username="alice")
    assert alice.pk == alice_pk and alice.first_name == "Alicia"  # updated, not duplicated
    assert User.objects.filter(username="alice").count() == 1
    order = Order.objects.get(pk=501)
    assert order.status == "shipped"
    assert order.created_at == created  # auto_now_add keeps the first load's value
    assert SeedLoad.objects.filter(path__endswith="c_users.yaml").count() == 2


def test_rows_removed_from_a_file_are_deleted(scratch: Callable[[str, str], Path]) -> None:
    folder = scratch("order", "dev")
    seed("dev")
    items = folder / "a_items.json"
    data = json.loads(items.read_text())
    items.write_text(json.dumps(data[:1]))
    report = seed("dev")
    result = next(f for f in report.files if f.path.endswith("a_items.json"))
    assert (result.action, result.rows, result.removed) == ("reloaded", 1, 1)
    assert not OrderItem.objects.filter(pk=502).exists()
    assert OrderItem.objects.filter(pk=501).exists()
    assert SeedLoad.objects.filter(path__endswith="a_items.json").latest("id").row_keys == {
        "shop.orderitem": [[501, 501]]
    }


def test_removal_that_would_cascade_into_another_files_rows_is_refused(
    scratch: Callable[[str, str], Path],
) -> None:
    folder = scratch("order", "dev")
    seed("dev")
    users = folder / "c_users.yaml"
    text = users.read_text()
    bob = text.index("- model: auth.user\n  fields: {username: bob")
    users.write_text(text[:bob] + text[text.index("- model: shop.product") :])
    with pytest.raises(SeedError) as excinfo:
        seed("dev")
    message = str(excinfo.value)
    assert "c_users.yaml" in message and "shop.order pk=502" in message
    assert User.objects.filter(username="bob").exists()
    assert Order.objects.filter(pk=502).exists()


def test_row_moved_to_another_file_is_not_deleted(scratch: Callable[[str, str], Path]) -> None:
    folder = scratch("order", "dev")
    seed("dev")
    items = folder / "a_items.json"
    data = json.loads(items.read_text())
    items.write_text(json.dumps(data[:1]))
    (folder / "d_more_items.json").write_text(json.dumps(data[1:]))
    seed("dev")
    assert OrderItem.objects.filter(pk__in=[501, 502]).count() == 2


def test_force_reloads_unchanged_files(data_dir: Path) -> None:
    seed("order")
    report = seed("order", force=True)
    assert {f.action for f in report.files} == {"reloaded"}
    assert Order.objects.filter(pk__in=[501, 502]).count() == 2


# -- all or nothing -------------------------------------------------------------------


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


RAISE_LINE = _line_of(Path(__file__).parent / "data/genraises/explode.py", "raise RuntimeError")

ERRORS = {
    "badjson": ["badjson/broken.json", "invalid JSON at line 2"],
    "badyaml": ["badyaml/broken.yaml", "invalid YAML at line"],
    "unknownmodel": ["unknownmodel/things.json", "object #1", "unknown model 'shop.widget'"],
    "unknownfield": [
        "unknownfield/products.json",
        "object #2 (shop.product pk=602)",
        "unknown field 'prise'",
    ],
    "missingref": [
        "missingref/orders.json",
        "object #2 (shop.orderitem pk=701) field product",
        "missing row",
        "shop.product with id=999999",
    ],
    "missingnatural": [
        "missingnatural/orders.json",
        "object #1 (shop.order pk=702)",
        "missing row (natural key not found)",
        "nobody",
    ],
    "genraises": [
        "genraises/explode.py",
        f"generate() raised RuntimeError (line {RAISE_LINE})",
        "supplier feed unavailable",
    ],
    "nokey": ["nokey/products.json", "object #1", 'no "pk"', "natural key"],
}


@pytest.mark.parametrize("scenario", sorted(ERRORS))
def test_invalid_seed_names_file_and_object_and_loads_nothing(
    data_dir: Path, scenario: str
) -> None:
    before = counts()
    with pytest.raises(SeedError) as excinfo:
        seed(scenario)
    message = str(excinfo.value)
    for fragment in ERRORS[scenario]:
        assert fragment in message
    # users.json of the same environment is valid and loads first (users come before
    # the models that reference them): it must have been rolled back with the rest.
    assert counts() == before
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize("scenario", sorted(ERRORS))
def test_invalid_seed_via_command_exits_2(data_dir: Path, scenario: str) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as excinfo:
        call_command("dbgov", "seed", "--env", scenario)
    assert excinfo.value.returncode == 2
    assert ERRORS[scenario][0] in str(excinfo.value)
    assert "Nothing was loaded" in str(excinfo.value)
    assert not SeedLoad.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_rollback_is_real_outside_a_test_transaction(data_dir: Path) -> None:
    """Without the test case's wrapping transaction: the commit never happens."""
    with pytest.raises(SeedError):
        seed("genraises")
    assert not User.objects.filter(username="carol").exists()
    assert not Product.objects.filter(sku__startswith="X-").exists()
    assert not SeedLoad.objects.exists()
    seed("order")  # and a good run afterwards commits
    assert SeedLoad.objects.filter(environment="order").count() == 3


def test_dry_run_checks_everything_and_keeps_nothing(data_dir: Path) -> None:
    before = counts()
    report = seed("order", dry_run=True)
    assert report.dry_run and report.rows == 7
    assert counts() == before
    with pytest.raises(SeedError, match="missing row"):
        seed("missingref", dry_run=True)


# -- environment safety ----------------------------------------------------------------


def test_production_is_refused_by_default(seed_dirs: Callable[..., None]) -> None:
    from tests.seeds.conftest import DATA

    seed_dirs(DATA)
    with pytest.raises(SeedError, match="production seeding is off"):
        seed("production", confirm=True)
    seed_dirs(DATA, ALLOW_PRODUCTION_SEED=True)
    with pytest.raises(SeedError, match="without --yes"):
        seed("production")
    assert not User.objects.filter(username="frank").exists()


def test_production_loads_when_allowed_and_confirmed(seed_dirs: Callable[..., None]) -> None:
    from tests.seeds.conftest import DATA

    seed_dirs(DATA, ALLOW_PRODUCTION_SEED=True)
    report = seed("production", confirm=True)
    assert report.rows == 2
    # the PII check is for non-production environments only
    assert User.objects.get(username="frank").email == "frank.miller@gmail.com"


def test_environment_comes_from_settings(seed_dirs: Callable[..., None]) -> None:
    from tests.seeds.conftest import DATA

    seed_dirs(DATA, ENVIRONMENT="order")
    assert seed().environment == "order"
    seed_dirs(DATA, ENVIRONMENT="production")
    with pytest.raises(SeedError, match="refusing"):
        seed()


# -- personal data ----------------------------------------------------------------------


def test_real_looking_email_is_refused(data_dir: Path) -> None:
    with pytest.raises(SeedError) as excinfo:
        seed("piireal")
    message = str(excinfo.value)
    assert "piireal/users.json" in message
    assert "object #2 (auth.user username='frank') field email" in message
    assert "frank.miller@gmail.com" in message
    assert "erin" not in message
    assert not User.objects.filter(username="erin").exists()


def test_real_looking_phone_in_a_pii_column_is_refused(data_dir: Path) -> None:
    # shop.Order.shipping_address has db_comment "PII: postal address"; the fictional
    # Ofcom number passes, the other one does not.
    with pytest.raises(SeedError) as excinfo:
        seed("piiphone")
    assert "field shipping_address" in str(excinfo.value)
    assert "real-looking phone number '+44 20 8123 4567'" in str(excinfo.value)
    assert "phone number '+44 113 496 0123'" not in str(excinfo.value)


def test_per_file_allowance_and_setting(seed_dirs: Callable[..., None]) -> None:
    from tests.seeds.conftest import DATA

    seed_dirs(DATA)
    seed("piiallowed")  # users.json.pii-allowed gives the reason
    assert User.objects.filter(username="frank").exists()
    seed_dirs(DATA, SEED_ALLOW_REAL_PII=True)
    seed("piireal")
    assert SeedLoad.objects.filter(environment="piireal").exists()


def test_pii_fields_left_out_get_stable_fake_values(data_dir: Path) -> None:
    seed("order")
    bob = User.objects.get(username="bob")
    assert bob.first_name and bob.last_name  # generated (auth.User names are PII by setting)
    assert bob.email == "bob@example.test"  # given values are kept
    order = Order.objects.get(pk=501)
    assert order.shipping_address  # db_comment "PII: postal address"
    first = (bob.first_name, order.shipping_address)
    seed("order", force=True)
    bob.refresh_from_db()
    order.refresh_from_db()
    assert (bob.first_name, order.shipping_address) == first


def test_generated_pii_survives_an_edit_of_other_fields(
    scratch: Callable[[str, str], Path],
) -> None:
    folder = scratch("order", "dev")
    seed("dev")
    name = User.objects.get(username="bob").first_name
    users = folder / "c_users.yaml"
    users.write_text(
        users.read_text().replace("{username: bob,", "{username: bob, is_staff: true,")
    )
    seed("dev")
    bob = User.objects.get(username="bob")
    assert bob.is_staff and bob.first_name == name


# -- status ----------------------------------------------------------------------------


def test_status_shows_loaded_changed_new_and_missing(scratch: Callable[[str, str], Path]) -> None:
    folder = scratch("order", "dev")
    assert {e.state for e in seed_status("dev")} == {"not loaded"}
    seed("dev")
    states = {Path(e.path).name: e for e in seed_status("dev")}
    assert {n: e.state for n, e in states.items()} == {
        "a_items.json": "loaded",
        "b_orders.json": "loaded",
        "c_users.yaml": "loaded",
    }
    assert states["b_orders.json"].rows == 2 and states["b_orders.json"].database == "default"
    assert states["b_orders.json"].loaded_at

    (folder / "b_orders.json").write_text((folder / "b_orders.json").read_text() + "\n")
    (folder / "a_items.json").unlink()
    (folder / "e_new.json").write_text("[]")
    states = {Path(e.path).name: e.state for e in seed_status("dev")}
    assert states == {
        "a_items.json": "missing",
        "b_orders.json": "changed",
        "c_users.yaml": "loaded",
        "e_new.json": "not loaded",
    }


def test_status_command_json(data_dir: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    seed("order")
    out = StringIO()
    call_command("dbgov", "seed", "--status", "--env", "order", "--format", "json", stdout=out)
    rows: list[dict[str, Any]] = json.loads(out.getvalue())
    assert {r["state"] for r in rows} == {"loaded"}
    assert {r["environment"] for r in rows} == {"order"}


def test_seed_command_json_and_text(data_dir: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("dbgov", "seed", "--env", "order", "--format", "json", stdout=out, stderr=err)
    report = json.loads(out.getvalue())  # stdout holds the JSON document only
    assert report["rows"] == 7 and report["environment"] == "order"
    assert "order:" in err.getvalue()  # progress goes to stderr
    out = StringIO()
    call_command("dbgov", "seed", "--env", "order", stdout=out, stderr=StringIO())
    assert "skipped  " in out.getvalue() and "unchanged" in out.getvalue()


# -- the demo seeds ---------------------------------------------------------------------


def test_demo_dev_seeds_load(seed_dirs: Callable[..., None]) -> None:
    from tests.seeds.conftest import REPO

    seed_dirs(REPO / "fixtures")
    report = seed("dev")
    assert {f.action for f in report.files} == {"loaded"}
    assert set(Task.objects.values_list("key", flat=True)) >= {"T-012", "T-021", "T-034", "T-041"}
    assert "order_items" in Task.objects.get(key="T-021").acceptance_criteria
    dba = User.objects.get(username="dba")
    assert dba.check_password("dba-dev-password")  # documented in docs/seeds.md
    assert Group.objects.get(name="DBA") in dba.groups.all()
    assert User.objects.get(username="dev").check_password("dev-password")
    # The developer who owns the tasks sees them (issue 13: "no permission to view").
    dev = User.objects.get(username="dev")
    assert Group.objects.get(name="Developers") in dev.groups.all()
    assert dev.has_perm("dbgov.view_task") and not dev.has_perm("dbgov.approve_finding")
    assert Order.objects.count() >= 3
    assert seed("test").rows == 6


def test_manage_py_refuses_production_with_exit_2_and_no_traceback() -> None:
    import subprocess
    import sys

    from tests.seeds.conftest import REPO

    result = subprocess.run(
        [sys.executable, "manage.py", "dbgov", "seed", "--env", "production", "--yes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "refusing to seed 'production'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
