"""The pieces of a rehearsal that need no worker: alias guard, registry, plans, verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from dbgov.explain.compare import compare
from dbgov.explain.copy import NotStaging, ensure_staging, is_copy_alias, parse_copy_name
from dbgov.explain.explain import parse_explain, run_explain
from dbgov.explain.patterns import Query, all_patterns, code_patterns, sql_tables
from dbgov.explain.plantree import plan_tree
from dbgov.explain.rehearse import migration_tables, pending_plan, relevant_patterns

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> list:
    return json.loads((FIXTURES / name).read_text())


# Staging only --------------------------------------------------------------------


def test_only_the_staging_alias_is_accepted() -> None:
    assert ensure_staging("staging") == "staging"
    with pytest.raises(NotStaging, match="refusing alias 'default'"):
        ensure_staging("default")


def test_staging_alias_follows_the_setting() -> None:
    with (
        override_settings(DBGOV={"STAGING_DATABASE": "default"}),
        pytest.raises(NotStaging, match="refusing alias 'staging'"),
    ):
        ensure_staging("staging")


def test_explain_analyze_refuses_other_aliases() -> None:
    query = Query("q", "DELETE FROM shop_orders")
    with pytest.raises(NotStaging, match="EXPLAIN ANALYZE executes the query"):
        run_explain("default", query)


def test_copy_names_carry_run_and_age() -> None:
    parsed = parse_copy_name("dbgov_copy_0123abcd_42_1790000000")
    assert parsed is not None and parsed.run_id == 42 and parsed.created == 1790000000
    assert is_copy_alias("dbgov_copy_0123abcd_42_1790000000")
    assert parse_copy_name("dbgov_copy_production") is None
    assert not is_copy_alias("staging")


# The query-pattern registry -----------------------------------------------------


def test_code_patterns_come_from_dbgov_queries_modules() -> None:
    patterns = {q.name: q for q in code_patterns()}
    history = patterns["user order history"]
    assert history.source == "project.shop.dbgov_queries"
    assert history.params == {"user_id": 42}
    assert history.tables == {"shop_orders"}
    assert not history.modifies_data


def test_sql_tables_and_data_modification() -> None:
    assert sql_tables(
        "SELECT * FROM shop_orders o JOIN auth_user u ON u.id = o.user_id WHERE o.id = %(id)s"
    ) == {"shop_orders", "auth_user"}
    assert Query("u", "UPDATE shop_orders SET status = %s WHERE id = 1").modifies_data
    assert sql_tables("this is not sql") == frozenset()


@pytest.mark.django_db
def test_admin_patterns_override_code_patterns() -> None:
    from dbgov.models import QueryPattern

    QueryPattern.objects.create(
        name="user order history", sql="SELECT 1 FROM shop_orders", params={}
    )
    QueryPattern.objects.create(name="admin only", sql="SELECT 1 FROM shop_products")
    registry = all_patterns()
    assert registry["user order history"].source == "admin"
    assert registry["user order history"].sql == "SELECT 1 FROM shop_orders"
    assert registry["admin only"].tables == {"shop_products"}
    assert "orders by status" in registry


# Which migrations and which queries ----------------------------------------------


def _loader_applied_up_to_0002() -> MigrationLoader:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    applied = set(loader.graph.forwards_plan(("shop", "0002_orders")))
    for app in {a for a, _ in loader.graph.nodes} - {"shop"}:
        for leaf in loader.graph.leaf_nodes(app):
            applied |= set(loader.graph.forwards_plan(leaf))
    loader.applied_migrations = {
        key: None for key in applied if key[0] != "shop" or key[1] < "0003"
    }
    return loader


def test_pending_plan_takes_the_tasks_pending_migrations_and_their_dependencies() -> None:
    loader = _loader_applied_up_to_0002()
    assert [m.name for m in pending_plan(loader, "T-021")] == ["0003_orders_user_history_index"]
    # T-037 (0007) needs 0003..0006 first, applied in plan order.
    assert [m.name for m in pending_plan(loader, "T-037")] == [
        "0003_orders_user_history_index",
        "0004_order_currency",
        "0005_rename_order_total",
        "0006_order_item_quantity_bigint",
        "0007_orders_status_index",
    ]
    assert pending_plan(loader, "T-999") == []


def test_relevant_patterns_are_the_named_ones_then_those_on_the_tables() -> None:
    loader = _loader_applied_up_to_0002()
    plan = pending_plan(loader, "T-021")
    tables = set().union(*(migration_tables(loader, m) for m in plan))
    assert tables == {"shop_orders"}
    registry = {q.name: q for q in code_patterns()}
    registry["products"] = Query("products", "SELECT * FROM shop_products")
    chosen, missing = relevant_patterns(registry, plan, tables)
    assert [q.name for q in chosen] == ["user order history", "orders by status"]
    assert missing == []
    del registry["user order history"]
    chosen, missing = relevant_patterns(registry, plan, tables)
    assert missing == ["user order history"]


def test_runsql_tables_come_from_the_sql() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    migration = loader.graph.nodes[("shop", "0010_orders_total_check")]
    assert migration_tables(loader, migration) == {"shop_orders"}


# EXPLAIN documents ------------------------------------------------------------


def test_parse_explain_seq_scan() -> None:
    result = parse_explain(load("user_order_history_before.json"))
    assert result.top_node == "Limit"
    assert result.access_path == "Seq Scan"
    assert result.seq_scans == ["shop_orders"]
    assert result.indexes_used == []
    assert result.execution_ms == pytest.approx(10.352, abs=0.01)
    assert result.estimated_rows == 20 and result.actual_rows == 20
    assert result.shared_hit_blocks == 974


def test_parse_explain_index_scan() -> None:
    result = parse_explain(load("user_order_history_after.json"))
    assert result.access_path == "Index Scan using shop_orders_user_history_idx"
    assert result.indexes_used == ["shop_orders_user_history_idx"]
    assert result.seq_scans == []


def test_verdict_for_an_index_that_helps() -> None:
    before = parse_explain(load("user_order_history_before.json"))
    after = parse_explain(load("user_order_history_after.json"))
    cmp = compare(before, after)
    assert not cmp.regression and not cmp.over_budget
    assert cmp.verdict.startswith("Seq Scan → Index Scan, 10 ms → 0.06 ms, buffers 974 → ")


def test_regression_and_budget_are_flagged() -> None:
    fast = parse_explain(load("user_order_history_after.json"))
    slow = parse_explain(load("user_order_history_before.json"))
    cmp = compare(fast, slow)
    assert cmp.regression
    assert "no longer uses shop_orders_user_history_idx" in cmp.verdict
    assert "REGRESSION" in cmp.verdict
    with override_settings(DBGOV={"OLTP_BUDGET_MS": 5}):
        assert compare(fast, slow).over_budget
        assert "over the 5.0 ms OLTP budget" in compare(fast, slow).verdict


def test_plan_tree_gives_per_node_time_and_marks_the_slowest() -> None:
    rows = plan_tree(load("user_order_history_before.json")).nodes
    assert [(r.depth, r.node_type) for r in rows] == [(0, "Limit"), (1, "Sort"), (2, "Seq Scan")]
    slowest = [r for r in rows if r.slowest]
    assert [r.node_type for r in slowest] == ["Seq Scan"]
    seq = rows[2]
    assert seq.self_ms == pytest.approx(10.303)
    assert seq.plan_rows == 49 and seq.actual_rows == 55
    assert seq.shared_hit == 974
    assert ("Filter", "(user_id = 42)") in seq.details
