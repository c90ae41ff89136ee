"""What PostgreSQL does to a table for each kind of statement: lock, rewrite, scan.

This module is data, not parsing: ``dbgov.analysis.sql`` reads the statement with
pglast and looks its facts up here. Every table cites the PostgreSQL documentation
section it comes from (https://www.postgresql.org/docs/current/…):

- explicit-locking.html, 13.3.1 "Table-Level Locks": which command takes which mode.
- sql-altertable.html: "An ACCESS EXCLUSIVE lock is acquired unless explicitly noted",
  each subcommand's exceptions, and the Notes on which forms rewrite or scan the table.
- sql-createindex.html, "Building Indexes Concurrently"; sql-dropindex.html;
  sql-reindex.html; sql-cluster.html; sql-vacuum.html; sql-comment.html;
  sql-createtrigger.html; sql-altertype.html ("ADD VALUE … cannot be executed inside a
  transaction block" before PostgreSQL 12).
- src/backend/commands/tablecmds.c ``AlterTableGetLockLevel`` is the authority the
  ALTER TABLE page summarises; where the page is silent, the table follows the code.

Version-dependent facts take ``pg_version`` as a major version (10, 11, … 17) or a
``server_version_num`` (150020); ``None`` means "a current PostgreSQL".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbgov.analysis.model import LockLevel

__all__ = [
    "ALTER_TABLE_ACTIONS",
    "AlterAction",
    "CURRENT_MAJOR",
    "LOCK_MODE_NUMBERS",
    "RELOPTIONS_SHARE_UPDATE_EXCLUSIVE",
    "STATEMENT_LOCKS",
    "add_column_rewrites",
    "pg_major",
    "reloptions_lock",
    "strongest",
    "type_change_rewrites",
]

# The newest major version whose behaviour the tables describe.
CURRENT_MAJOR = 17

AE = LockLevel.ACCESS_EXCLUSIVE
SUE = LockLevel.SHARE_UPDATE_EXCLUSIVE
SRE = LockLevel.SHARE_ROW_EXCLUSIVE


def pg_major(pg_version: int | None) -> int:
    """Major version from 15, 150020 (server_version_num) or 90624; None → current."""
    if pg_version is None:
        return CURRENT_MAJOR
    if pg_version >= 100000:  # 10+: server_version_num = major * 10000 + minor
        return pg_version // 10000
    if pg_version >= 1000:  # 9.x: 90624 → 9 (9.6 behaves as "below 10")
        return pg_version // 10000
    return pg_version


def strongest(levels: list[LockLevel] | tuple[LockLevel, ...]) -> LockLevel:
    """The strongest of several lock modes (ALTER TABLE with several subcommands takes
    the strongest any of them needs: sql-altertable.html, Notes)."""
    return max(levels, key=lambda lk: lk.rank)


# --- ALTER TABLE subcommands -------------------------------------------------------
#
# sql-altertable.html, Description: "An ACCESS EXCLUSIVE lock is acquired unless
# explicitly noted. When multiple subcommands are given, the lock acquired will be the
# strictest one required by any subcommand." The exceptions, per subcommand:
#   SET STATISTICS, SET/RESET (attribute_option) ......... SHARE UPDATE EXCLUSIVE
#   ADD table_constraint FOREIGN KEY ....................... SHARE ROW EXCLUSIVE (and the
#       same on the referenced table)
#   VALIDATE CONSTRAINT ..................................... SHARE UPDATE EXCLUSIVE (ROW
#       SHARE on the referenced table of a foreign key)
#   ALTER CONSTRAINT, DISABLE/ENABLE [REPLICA|ALWAYS] TRIGGER SHARE ROW EXCLUSIVE
#   CLUSTER ON, SET WITHOUT CLUSTER ......................... SHARE UPDATE EXCLUSIVE
#   SET (storage_parameter): fillfactor, toast and autovacuum parameters and a few
#       planner ones ........................................ SHARE UPDATE EXCLUSIVE
#   ATTACH PARTITION (PostgreSQL 12+) ....................... SHARE UPDATE EXCLUSIVE on the
#       parent, ACCESS EXCLUSIVE on the partition being attached (scanned to check the
#       partition constraint unless a CHECK constraint proves it)
#   DETACH PARTITION ........................................ ACCESS EXCLUSIVE; with
#       CONCURRENTLY (14+) SHARE UPDATE EXCLUSIVE, not in a transaction block
#   DETACH PARTITION … FINALIZE ............................. SHARE UPDATE EXCLUSIVE
#
# Rewrites and scans (sql-altertable.html, Notes): "Adding a column with a volatile
# DEFAULT or changing the type of an existing column will require the entire table and
# its indexes to be rewritten" (except binary-coercible type changes); "SET TABLESPACE",
# "SET LOGGED/UNLOGGED" and "SET ACCESS METHOD" rewrite (copy) the table; "Adding a
# CHECK or NOT NULL constraint requires scanning the table to verify that existing rows
# meet the constraint" (not when NOT VALID; SET NOT NULL skips the scan from 12 on when a
# valid CHECK constraint proves it, which the statement alone cannot know); adding a
# UNIQUE / PRIMARY KEY / EXCLUDE constraint builds an index (a full scan) unless USING
# INDEX; adding a FOREIGN KEY validates every row unless NOT VALID.


@dataclass(frozen=True)
class AlterAction:
    """The facts of one ALTER TABLE subcommand (before details such as NOT VALID)."""

    action: str  # PostgreSQL's words: "ADD COLUMN", "SET NOT NULL", …
    lock: LockLevel
    rewrites: bool = False
    scans: bool = False


ALTER_TABLE_ACTIONS: dict[str, AlterAction] = {
    # pglast / libpg_query AlterTableType → facts
    "AT_AddColumn": AlterAction("ADD COLUMN", AE),  # rewrite: see add_column_rewrites
    "AT_AddColumnToView": AlterAction("ADD COLUMN", AE),
    "AT_ColumnDefault": AlterAction("SET DEFAULT", AE),  # "DROP DEFAULT" without def
    "AT_CookedColumnDefault": AlterAction("SET DEFAULT", AE),
    "AT_DropNotNull": AlterAction("DROP NOT NULL", AE),
    "AT_SetNotNull": AlterAction("SET NOT NULL", AE, scans=True),
    "AT_SetExpression": AlterAction("SET EXPRESSION", AE, rewrites=True),  # 17+
    "AT_DropExpression": AlterAction("DROP EXPRESSION", AE),
    "AT_CheckNotNull": AlterAction("SET NOT NULL", AE, scans=True),
    "AT_SetStatistics": AlterAction("SET STATISTICS", SUE),
    "AT_SetOptions": AlterAction("SET ATTRIBUTE OPTIONS", SUE),
    "AT_ResetOptions": AlterAction("RESET ATTRIBUTE OPTIONS", SUE),
    # tablecmds.c: SET STORAGE may add a toast table → ACCESS EXCLUSIVE
    "AT_SetStorage": AlterAction("SET STORAGE", AE),
    "AT_SetCompression": AlterAction("SET COMPRESSION", AE),
    "AT_DropColumn": AlterAction("DROP COLUMN", AE),
    "AT_AddIndex": AlterAction("ADD INDEX", AE, scans=True),
    "AT_ReAddIndex": AlterAction("ADD INDEX", AE, scans=True),
    # constraint kind decides: see sql/tables.py (FOREIGN KEY → SHARE ROW EXCLUSIVE …)
    "AT_AddConstraint": AlterAction("ADD CONSTRAINT", AE),
    "AT_ReAddConstraint": AlterAction("ADD CONSTRAINT", AE),
    "AT_AlterConstraint": AlterAction("ALTER CONSTRAINT", AE),
    "AT_ValidateConstraint": AlterAction("VALIDATE CONSTRAINT", SUE, scans=True),
    "AT_AddIndexConstraint": AlterAction("ADD CONSTRAINT", AE),
    "AT_DropConstraint": AlterAction("DROP CONSTRAINT", AE),
    # rewrite unless binary-coercible: type_change_rewrites(old, new)
    "AT_AlterColumnType": AlterAction("ALTER COLUMN TYPE", AE, rewrites=True),
    "AT_AlterColumnGenericOptions": AlterAction("ALTER COLUMN OPTIONS", AE),
    "AT_ChangeOwner": AlterAction("OWNER TO", AE),
    "AT_ClusterOn": AlterAction("CLUSTER ON", SUE),
    "AT_DropCluster": AlterAction("SET WITHOUT CLUSTER", SUE),
    "AT_SetLogged": AlterAction("SET LOGGED", AE, rewrites=True),
    "AT_SetUnLogged": AlterAction("SET UNLOGGED", AE, rewrites=True),
    "AT_DropOids": AlterAction("SET WITHOUT OIDS", AE),
    "AT_SetAccessMethod": AlterAction("SET ACCESS METHOD", AE, rewrites=True),
    "AT_SetTableSpace": AlterAction("SET TABLESPACE", AE, rewrites=True),
    # lock depends on the parameters: RELOPTIONS_SHARE_UPDATE_EXCLUSIVE
    "AT_SetRelOptions": AlterAction("SET STORAGE PARAMETERS", AE),
    "AT_ResetRelOptions": AlterAction("RESET STORAGE PARAMETERS", AE),
    "AT_ReplaceRelOptions": AlterAction("SET STORAGE PARAMETERS", AE),
    "AT_EnableTrig": AlterAction("ENABLE TRIGGER", SRE),
    "AT_EnableAlwaysTrig": AlterAction("ENABLE ALWAYS TRIGGER", SRE),
    "AT_EnableReplicaTrig": AlterAction("ENABLE REPLICA TRIGGER", SRE),
    "AT_DisableTrig": AlterAction("DISABLE TRIGGER", SRE),
    "AT_EnableTrigAll": AlterAction("ENABLE TRIGGER ALL", SRE),
    "AT_DisableTrigAll": AlterAction("DISABLE TRIGGER ALL", SRE),
    "AT_EnableTrigUser": AlterAction("ENABLE TRIGGER USER", SRE),
    "AT_DisableTrigUser": AlterAction("DISABLE TRIGGER USER", SRE),
    "AT_EnableRule": AlterAction("ENABLE RULE", AE),
    "AT_EnableAlwaysRule": AlterAction("ENABLE ALWAYS RULE", AE),
    "AT_EnableReplicaRule": AlterAction("ENABLE REPLICA RULE", AE),
    "AT_DisableRule": AlterAction("DISABLE RULE", AE),
    "AT_AddInherit": AlterAction("INHERIT", AE),
    "AT_DropInherit": AlterAction("NO INHERIT", AE),
    "AT_AddOf": AlterAction("OF", AE),
    "AT_DropOf": AlterAction("NOT OF", AE),
    "AT_ReplicaIdentity": AlterAction("REPLICA IDENTITY", AE),
    "AT_EnableRowSecurity": AlterAction("ENABLE ROW LEVEL SECURITY", AE),
    "AT_DisableRowSecurity": AlterAction("DISABLE ROW LEVEL SECURITY", AE),
    "AT_ForceRowSecurity": AlterAction("FORCE ROW LEVEL SECURITY", AE),
    "AT_NoForceRowSecurity": AlterAction("NO FORCE ROW LEVEL SECURITY", AE),
    "AT_GenericOptions": AlterAction("OPTIONS", AE),
    # PostgreSQL 12+; before 12 ACCESS EXCLUSIVE on the parent (see sql/tables.py)
    "AT_AttachPartition": AlterAction("ATTACH PARTITION", SUE, scans=True),
    "AT_DetachPartition": AlterAction("DETACH PARTITION", AE),
    "AT_DetachPartitionFinalize": AlterAction("DETACH PARTITION FINALIZE", SUE),
    # identity columns keep their values: no rewrite (sql-altertable.html)
    "AT_AddIdentity": AlterAction("ADD IDENTITY", AE),
    "AT_SetIdentity": AlterAction("SET IDENTITY", AE),
    "AT_DropIdentity": AlterAction("DROP IDENTITY", AE),
    "AT_ReAddStatistics": AlterAction("ADD STATISTICS", SUE),
    # 17+: MERGE/SPLIT PARTITIONS copy the data
    "AT_MergePartitions": AlterAction("MERGE PARTITIONS", AE, rewrites=True),
    "AT_SplitPartition": AlterAction("SPLIT PARTITION", AE, rewrites=True),
}

# Constraint kinds of ADD CONSTRAINT (libpg_query ConstrType) → action, lock, scans.
# sql-altertable.html ADD table_constraint: "Although most forms of ADD
# table_constraint require an ACCESS EXCLUSIVE lock, ADD FOREIGN KEY requires only a
# SHARE ROW EXCLUSIVE lock. Note that ADD FOREIGN KEY also acquires a SHARE ROW EXCLUSIVE
# lock on the referenced table". UNIQUE / PRIMARY KEY / EXCLUDE build an index ("cases
# essentially the same as CREATE INDEX", tablecmds.c) under ACCESS EXCLUSIVE.
ADD_CONSTRAINT: dict[str, AlterAction] = {
    "CONSTR_FOREIGN": AlterAction("ADD CONSTRAINT FOREIGN KEY", SRE, scans=True),
    "CONSTR_CHECK": AlterAction("ADD CONSTRAINT CHECK", AE, scans=True),
    "CONSTR_UNIQUE": AlterAction("ADD CONSTRAINT UNIQUE", AE, scans=True),
    "CONSTR_PRIMARY": AlterAction("ADD CONSTRAINT PRIMARY KEY", AE, scans=True),
    "CONSTR_EXCLUSION": AlterAction("ADD CONSTRAINT EXCLUDE", AE, scans=True),
    "CONSTR_NOTNULL": AlterAction("ADD CONSTRAINT NOT NULL", AE, scans=True),  # 18+
}

# Storage parameters whose SET/RESET takes only SHARE UPDATE EXCLUSIVE
# (sql-altertable.html SET ( storage_parameter ): "SHARE UPDATE EXCLUSIVE lock will be
# taken for fillfactor, toast and autovacuum storage parameters, as well as the
# planner parameter parallel_workers"; reloptions.c lists the rest).
RELOPTIONS_SHARE_UPDATE_EXCLUSIVE = frozenset(
    {
        "fillfactor",
        "parallel_workers",
        "toast_tuple_target",
        "vacuum_index_cleanup",
        "vacuum_truncate",
        "log_autovacuum_min_duration",
    }
)


def reloptions_lock(names: list[str]) -> LockLevel:
    """Lock of ALTER TABLE SET/RESET (storage parameters) for these parameter names."""
    for name in names:
        if name.startswith("toast."):
            continue
        if name.startswith("autovacuum_") or name in RELOPTIONS_SHARE_UPDATE_EXCLUSIVE:
            continue
        return AE
    return SUE


# --- Other statements ----------------------------------------------------------------
#
# explicit-locking.html 13.3.1, "Table-Level Locks" (the "Acquired by" paragraphs):
#   ACCESS SHARE ........... SELECT; any query that only reads a table
#   ROW SHARE .............. SELECT … FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE
#   ROW EXCLUSIVE .......... UPDATE, DELETE, INSERT, MERGE ("any command that modifies
#                            data in a table")
#   SHARE UPDATE EXCLUSIVE . VACUUM (without FULL), ANALYZE, CREATE INDEX CONCURRENTLY,
#                            CREATE STATISTICS, COMMENT ON, REINDEX CONCURRENTLY, some
#                            ALTER INDEX / ALTER TABLE variants
#   SHARE .................. CREATE INDEX (without CONCURRENTLY)
#   SHARE ROW EXCLUSIVE .... CREATE TRIGGER and some forms of ALTER TABLE
#   EXCLUSIVE .............. REFRESH MATERIALIZED VIEW CONCURRENTLY
#   ACCESS EXCLUSIVE ....... DROP TABLE, TRUNCATE, REINDEX, CLUSTER, VACUUM FULL,
#                            REFRESH MATERIALIZED VIEW (without CONCURRENTLY), many
#                            ALTER INDEX / ALTER TABLE forms; default of LOCK TABLE
#
# (lock, rewrites, scans) per statement kind as the sql package names them; statements whose
# lock depends on options (CONCURRENTLY, FULL) are listed once per variant.
STATEMENT_LOCKS: dict[str, tuple[LockLevel, bool, bool]] = {
    "SELECT": (LockLevel.ACCESS_SHARE, False, False),
    "SELECT FOR UPDATE": (LockLevel.ROW_SHARE, False, False),
    "INSERT": (LockLevel.ROW_EXCLUSIVE, False, False),
    "UPDATE": (LockLevel.ROW_EXCLUSIVE, False, False),
    "DELETE": (LockLevel.ROW_EXCLUSIVE, False, False),
    "MERGE": (LockLevel.ROW_EXCLUSIVE, False, False),
    "COPY FROM": (LockLevel.ROW_EXCLUSIVE, False, False),
    "COPY TO": (LockLevel.ACCESS_SHARE, False, True),
    # sql-createindex.html: "Normally PostgreSQL locks the table to be indexed against
    # writes"; "Building Indexes Concurrently": SHARE UPDATE EXCLUSIVE, two scans.
    "CREATE INDEX": (LockLevel.SHARE, False, True),
    "CREATE INDEX CONCURRENTLY": (SUE, False, True),
    # sql-dropindex.html: "a normal DROP INDEX acquires an ACCESS EXCLUSIVE lock on the
    # table"; CONCURRENTLY waits for conflicting transactions instead.
    "DROP INDEX": (AE, False, False),
    "DROP INDEX CONCURRENTLY": (SUE, False, False),
    # sql-reindex.html: REINDEX locks out writes of the parent table (SHARE, observed)
    # and takes ACCESS EXCLUSIVE on each index it rebuilds, which blocks every query
    # planned to use it (TableLock.index_lock); CONCURRENTLY: SHARE UPDATE EXCLUSIVE.
    "REINDEX": (LockLevel.SHARE, False, True),
    "REINDEX CONCURRENTLY": (SUE, False, True),
    "DROP TABLE": (AE, False, False),
    "TRUNCATE": (AE, False, False),
    # sql-vacuum.html: VACUUM FULL "rewrites the entire contents of the table into a new
    # disk file" under ACCESS EXCLUSIVE; plain VACUUM / ANALYZE: SHARE UPDATE EXCLUSIVE.
    "VACUUM": (SUE, False, True),
    "VACUUM FULL": (AE, True, True),
    # ANALYZE reads a random sample of the table's pages, not every row
    "ANALYZE": (SUE, False, False),
    # sql-cluster.html: "CLUSTER … acquires an ACCESS EXCLUSIVE lock"; rewrites the table.
    "CLUSTER": (AE, True, True),
    # sql-comment.html / explicit-locking: COMMENT ON takes SHARE UPDATE EXCLUSIVE.
    "COMMENT": (SUE, False, False),
    # sql-createtrigger.html / explicit-locking: SHARE ROW EXCLUSIVE.
    "CREATE TRIGGER": (SRE, False, False),
    "DROP TRIGGER": (AE, False, False),
    "CREATE RULE": (AE, False, False),
    "CREATE POLICY": (AE, False, False),
    "CREATE STATISTICS": (SUE, False, False),
    # sequence.c: ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence (observed)
    "ALTER SEQUENCE": (SRE, False, False),
    "REFRESH MATERIALIZED VIEW": (AE, True, True),
    "REFRESH MATERIALIZED VIEW CONCURRENTLY": (LockLevel.EXCLUSIVE, False, True),
    # RENAME of a table, column or constraint: ACCESS EXCLUSIVE (sql-altertable.html).
    # ALTER INDEX … RENAME takes SHARE UPDATE EXCLUSIVE from PostgreSQL 12 on
    # (sql-alterindex.html); sql/objects.py applies the version.
    "RENAME": (AE, False, False),
    "RENAME INDEX": (SUE, False, False),
    "SET SCHEMA": (AE, False, False),
}

# LOCK TABLE … IN <mode> MODE: libpg_query's numeric lock modes (lockdefs.h).
LOCK_MODE_NUMBERS: dict[int, LockLevel] = {
    1: LockLevel.ACCESS_SHARE,
    2: LockLevel.ROW_SHARE,
    3: LockLevel.ROW_EXCLUSIVE,
    4: LockLevel.SHARE_UPDATE_EXCLUSIVE,
    5: LockLevel.SHARE,
    6: LockLevel.SHARE_ROW_EXCLUSIVE,
    7: LockLevel.EXCLUSIVE,
    8: LockLevel.ACCESS_EXCLUSIVE,
}


# --- Volatility of default expressions ------------------------------------------------
#
# sql-altertable.html Notes: "When a column is added with ADD COLUMN and a non-volatile
# DEFAULT is specified, the default is evaluated at the time of the statement and the
# result stored in the table's metadata. … Adding a column with a volatile DEFAULT …
# will require the entire table and its indexes to be rewritten" (PostgreSQL 11+; before
# 11 any non-NULL default rewrites). Volatility is pg_proc.provolatile: see schema.py.


def add_column_rewrites(
    *,
    has_default: bool,
    default_volatile: bool,
    generated_stored: bool = False,
    identity: bool = False,
    serial: bool = False,
    pg_version: int | None = None,
) -> bool:
    """Whether ALTER TABLE … ADD COLUMN rewrites the table (sql-altertable.html, Notes).

    - PostgreSQL 11+: only a volatile default, a stored generated column, an identity
      column or a serial column (its default is ``nextval()``, volatile) rewrite.
    - Before 11: any non-NULL default rewrites as well.
    """
    if generated_stored or identity or serial:
        return True
    if not has_default:
        return False
    if pg_major(pg_version) < 11:
        return True
    return default_volatile


# --- ALTER COLUMN TYPE: binary-coercible changes ---------------------------------------
#
# sql-altertable.html Notes: "changing the type of an existing column will require the
# entire table and its indexes to be rewritten. As an exception, when changing the type
# of an existing column, if the USING clause does not change the column contents and the
# old type is either binary coercible to the new type or an unconstrained domain over
# the new type, a table rewrite is not needed." Length/precision typmod changes that only
# relax the limit go through length-coercion functions that PostgreSQL (9.2+) recognises
# as no-ops (varchar, numeric with the same scale, time/timestamp/interval precision,
# bit varying).

_TYPE_ALIASES = {
    "int": "int4",
    "integer": "int4",
    "int4": "int4",
    "serial": "int4",
    "serial4": "int4",
    "smallint": "int2",
    "int2": "int2",
    "smallserial": "int2",
    "serial2": "int2",
    "bigint": "int8",
    "int8": "int8",
    "bigserial": "int8",
    "serial8": "int8",
    "character varying": "varchar",
    "varchar": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "bpchar": "bpchar",
    "text": "text",
    "citext": "citext",
    "numeric": "numeric",
    "decimal": "numeric",
    "real": "float4",
    "float4": "float4",
    "double precision": "float8",
    "float8": "float8",
    "float": "float8",
    "boolean": "bool",
    "bool": "bool",
    "timestamp": "timestamp",
    "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz",
    "time": "time",
    "time without time zone": "time",
    "timetz": "timetz",
    "time with time zone": "timetz",
    "interval": "interval",
    "date": "date",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
    "bytea": "bytea",
    "inet": "inet",
    "cidr": "cidr",
    "bit varying": "varbit",
    "varbit": "varbit",
    "bit": "bit",
    "xml": "xml",
}

# old base type → new base types it is binary coercible to (pg_cast castmethod 'b'),
# when the typmod does not get stricter.
_BINARY_COERCIBLE: dict[str, frozenset[str]] = {
    "varchar": frozenset({"varchar", "text", "citext"}),
    "text": frozenset({"varchar", "text", "citext"}),
    "citext": frozenset({"varchar", "text", "citext"}),
    "cidr": frozenset({"inet", "cidr"}),
    "xml": frozenset({"text", "varchar"}),
    "bit": frozenset({"varbit"}),
}

# Types whose typmod only relaxes with a larger value (or no value at all): their length
# coercion has a planner support function that makes widening a no-op (varchar_support,
# varbit_support). char(n) and bit(n) are stored padded: widening them rewrites.
_WIDENING_TYPMOD = frozenset({"varchar", "varbit"})
_PRECISION_TYPMOD = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval"})

_TYPE_RE = re.compile(
    r"^\s*(?P<name>[a-z0-9_ .\"]+?)\s*(?:\((?P<mods>[^)]*)\))?\s*(?P<arr>(\[\])*)\s*$"
)


def _parse_type(spec: str) -> tuple[str, tuple[int, ...], bool] | None:
    spec = spec.strip().lower().replace('"', "")
    # "timestamp(3) with time zone" → "timestamp with time zone" (3)
    m = re.match(r"^(timestamp|time)\s*\((\d+)\)\s*(with|without)\s+time\s+zone$", spec)
    if m:
        spec = f"{m.group(1)} {m.group(3)} time zone({m.group(2)})"
    m = _TYPE_RE.match(spec)
    if not m:
        return None
    name = " ".join(m.group("name").split())
    if name.startswith("pg_catalog."):
        name = name[len("pg_catalog.") :]
    base = _TYPE_ALIASES.get(name)
    if base is None:
        return None
    mods: tuple[int, ...] = ()
    if m.group("mods"):
        try:
            mods = tuple(int(x) for x in m.group("mods").split(","))
        except ValueError:
            return None
    return base, mods, bool(m.group("arr"))


def type_change_rewrites(
    old_type: str,
    new_type: str,
    *,
    pg_version: int | None = None,
    timezone_utc: bool | None = None,
) -> bool | None:
    """Whether ``ALTER COLUMN … TYPE new_type`` rewrites a column of ``old_type``.

    Types are SQL spellings as Django's ``db_type()`` or ``\\d`` write them
    (``varchar(20)``, ``numeric(10, 2)``, ``timestamp with time zone``). Returns
    ``False`` for binary-coercible changes (varchar(n) → varchar(m ≥ n) / varchar /
    text, numeric(p, s) → numeric(q ≥ p, s) / numeric, precision increases of time
    types, cidr → inet), ``True`` when the table is rewritten (int → bigint, any
    narrowing, text → varchar(n), json → jsonb, …) and ``None`` when dbgov cannot tell
    (unknown or user-defined types; timestamp → timestamptz on 12+, which skips the
    rewrite only when the session TimeZone is UTC: pass ``timezone_utc`` when known;
    Django sets it to UTC when ``USE_TZ`` is on).
    """
    old = _parse_type(old_type)
    new = _parse_type(new_type)
    if old is None or new is None:
        if " ".join(old_type.lower().split()) == " ".join(new_type.lower().split()):
            return False
        return None
    (ob, om, oa), (nb, nm, na) = old, new
    if oa != na or (oa and ob != nb):
        return True  # an array's elements are converted one by one (observed)
    if ob == nb:
        if om == nm:
            return False
        if not nm:  # dropping the limit: varchar(n) → varchar, numeric(p,s) → numeric
            return False
        if not om:  # adding a limit: every value must be checked and coerced
            return True
        if ob in _WIDENING_TYPMOD:
            return nm[0] < om[0]
        if ob == "numeric":
            o_scale = om[1] if len(om) > 1 else 0
            n_scale = nm[1] if len(nm) > 1 else 0
            return not (n_scale == o_scale and nm[0] >= om[0])
        if ob in _PRECISION_TYPMOD:
            return nm[0] < om[0]
        return True
    if {ob, nb} == {"timestamp", "timestamptz"} and om == nm:
        # 12+: no rewrite when the session TimeZone is UTC (ATColumnChangeRequiresRewrite)
        if pg_major(pg_version) < 12 or nm:
            return True  # with a precision, a length coercion is applied on top
        return None if timezone_utc is None else not timezone_utc
    if nb in _BINARY_COERCIBLE.get(ob, frozenset()):
        # the new limit must not be stricter than the old one
        if nb in _WIDENING_TYPMOD and nm:
            return not (om and ob in _WIDENING_TYPMOD and nm[0] >= om[0])
        return False
    return True
