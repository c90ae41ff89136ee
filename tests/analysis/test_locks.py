"""The lock / rewrite knowledge tables and helpers in dbgov.analysis.locks."""

from __future__ import annotations

import pytest

from dbgov.analysis import locks as L
from dbgov.analysis.model import LockLevel


@pytest.mark.parametrize(
    ("old", "new", "pg", "rewrites"),
    [
        # varchar widening / unbounding / to text: binary coercible, no rewrite
        ("varchar(20)", "varchar(40)", None, False),
        ("character varying(20)", "character varying", None, False),
        ("varchar(20)", "text", None, False),
        ("text", "varchar", None, False),
        ("varchar(20)", "varchar(20)", None, False),
        # …the opposite: narrowing or adding a limit rewrites
        ("varchar(40)", "varchar(20)", None, True),
        ("text", "varchar(20)", None, True),
        ("varchar", "varchar(20)", None, True),
        # numeric: precision up with the same scale is free, scale change is not
        ("numeric(10, 2)", "numeric(12, 2)", None, False),
        ("numeric(10,2)", "numeric", None, False),
        ("decimal(10, 2)", "numeric(12, 2)", None, False),
        ("numeric(10, 2)", "numeric(12, 3)", None, True),
        ("numeric(10, 2)", "numeric(8, 2)", None, True),
        ("numeric", "numeric(10, 2)", None, True),
        # integers: a real conversion
        ("integer", "bigint", None, True),
        ("int4", "int8", None, True),
        ("smallint", "integer", None, True),
        ("bigint", "bigint", None, False),
        ("serial", "integer", None, False),
        # time precision
        ("timestamp(3) with time zone", "timestamp(6) with time zone", None, False),
        ("timestamp with time zone", "timestamp(3) with time zone", None, True),
        # timestamp → timestamptz: rewrite before 12, depends on TimeZone from 12
        ("timestamp without time zone", "timestamp with time zone", 11, True),
        ("timestamp", "timestamptz", 12, None),
        # others
        ("json", "jsonb", None, True),
        ("cidr", "inet", None, False),
        ("inet", "cidr", None, True),
        ("char(5)", "char(10)", None, True),  # stored padded
        ("bit varying(5)", "bit varying(10)", None, False),
        ("char(5)", "text", None, True),
        ("text", "citext", None, False),
        ("integer[]", "bigint[]", None, True),
        ("text[]", "text", None, True),
        ('"my_domain"', "text", None, None),
        ("mytype", "mytype", None, False),
    ],
)
def test_type_change_rewrites(old, new, pg, rewrites):
    assert L.type_change_rewrites(old, new, pg_version=pg) is rewrites


@pytest.mark.parametrize(
    ("kwargs", "rewrites"),
    [
        ({"has_default": False, "default_volatile": False}, False),
        ({"has_default": True, "default_volatile": False}, False),
        ({"has_default": True, "default_volatile": False, "pg_version": 10}, True),
        ({"has_default": True, "default_volatile": False, "pg_version": 11}, False),
        ({"has_default": True, "default_volatile": True}, True),
        ({"has_default": False, "default_volatile": False, "serial": True}, True),
        ({"has_default": False, "default_volatile": False, "identity": True}, True),
        ({"has_default": False, "default_volatile": False, "generated_stored": True}, True),
        ({"has_default": False, "default_volatile": False, "pg_version": 9}, False),
    ],
)
def test_add_column_rewrites(kwargs, rewrites):
    assert L.add_column_rewrites(**kwargs) is rewrites


@pytest.mark.parametrize(
    ("value", "major"),
    [
        (None, L.CURRENT_MAJOR),
        (10, 10),
        (15, 15),
        (150020, 15),
        (100012, 10),
        (90624, 9),
        (110000, 11),
    ],
)
def test_pg_major(value, major):
    assert L.pg_major(value) == major


@pytest.mark.parametrize(
    ("names", "lock"),
    [
        (["fillfactor"], LockLevel.SHARE_UPDATE_EXCLUSIVE),
        (
            ["autovacuum_vacuum_scale_factor", "toast.autovacuum_enabled"],
            LockLevel.SHARE_UPDATE_EXCLUSIVE,
        ),
        (["parallel_workers"], LockLevel.SHARE_UPDATE_EXCLUSIVE),
        (["fillfactor", "security_barrier"], LockLevel.ACCESS_EXCLUSIVE),
        (["check_option"], LockLevel.ACCESS_EXCLUSIVE),
    ],
)
def test_reloptions_lock(names, lock):
    assert L.reloptions_lock(names) is lock


@pytest.mark.parametrize(
    ("name", "major", "volatility"),
    [
        ("now", None, "s"),
        ("pg_catalog.now", 15, "s"),
        ("STATEMENT_TIMESTAMP", None, "s"),
        ("clock_timestamp", None, "v"),
        ("random", 15, "v"),
        ("gen_random_uuid", None, "v"),
        ("nextval", None, "v"),
        ("pi", None, "i"),  # issue 10: DEFAULT (PI()) is immutable, not a rewrite
        ("lower", 18, "i"),
        ("uuidv7", 18, "v"),
        ("uuidv7", 15, "v"),  # unknown on 15: the nearest version that knows it
        ("public.uuid_generate_v4", None, None),  # user / extension schema: the sandbox's
        ("my_function", None, None),
    ],
)
def test_builtin_volatility_from_pg_proc(name, major, volatility):
    from dbgov.analysis.schema import builtin_volatility

    assert builtin_volatility(name, major) == volatility


def test_strongest():
    assert L.strongest([LockLevel.SHARE, LockLevel.ACCESS_SHARE]) is LockLevel.SHARE
    assert (
        L.strongest((LockLevel.SHARE_ROW_EXCLUSIVE, LockLevel.ACCESS_EXCLUSIVE))
        is LockLevel.ACCESS_EXCLUSIVE
    )


def test_alter_table_default_is_access_exclusive_with_documented_exceptions():
    """sql-altertable.html: ACCESS EXCLUSIVE unless explicitly noted."""
    weaker = {
        k for k, v in L.ALTER_TABLE_ACTIONS.items() if v.lock is not LockLevel.ACCESS_EXCLUSIVE
    }
    assert weaker == {
        "AT_SetStatistics",
        "AT_SetOptions",
        "AT_ResetOptions",
        "AT_ValidateConstraint",
        "AT_ClusterOn",
        "AT_DropCluster",
        "AT_EnableTrig",
        "AT_EnableAlwaysTrig",
        "AT_EnableReplicaTrig",
        "AT_DisableTrig",
        "AT_EnableTrigAll",
        "AT_DisableTrigAll",
        "AT_EnableTrigUser",
        "AT_DisableTrigUser",
        "AT_AttachPartition",
        "AT_DetachPartitionFinalize",
        "AT_ReAddStatistics",
    }
    rewriting = {v.action for v in L.ALTER_TABLE_ACTIONS.values() if v.rewrites}
    assert {
        "ALTER COLUMN TYPE",
        "SET TABLESPACE",
        "SET LOGGED",
        "SET UNLOGGED",
        "SET ACCESS METHOD",
    } <= rewriting
    assert "ADD COLUMN" not in rewriting  # decided per column by add_column_rewrites


def test_every_subcommand_pglast_knows_is_in_the_table():
    from pglast.enums import AlterTableType

    known = set(L.ALTER_TABLE_ACTIONS)
    internal = {  # produced by PostgreSQL itself while executing, never by the parser
        "AT_ReAddComment",
        "AT_ReAddDomainConstraint",
        "AT_AlterColumnGenericOptions",
        "AT_CookedColumnDefault",
        "AT_CheckNotNull",
        "AT_ReAddIndex",
        "AT_ReAddConstraint",
        "AT_ReAddStatistics",
        "AT_AddColumnToView",
        "AT_SetExpression",
        "AT_MergePartitions",
        "AT_SplitPartition",
    }
    missing = {m.name for m in AlterTableType} - known - internal
    assert missing == set()
