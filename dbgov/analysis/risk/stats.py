"""The target's table statistics: rows, sizes and write rates, from the catalog only.

Read in the catalog snapshot's connection (engine._read_target), in a READ ONLY
transaction with ``lock_timeout``. No relation is opened: sizes are ``relpages`` times
the block size of the table, its TOAST table and its indexes (as of the last VACUUM,
ANALYZE or CREATE INDEX), not ``pg_total_relation_size`` (which takes ACCESS SHARE on
each relation and would queue behind a running migration). ``reltuples`` is -1 for a
table never vacuumed or analyzed: its row count is then unknown, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

__all__ = ["TableStats", "TargetStatistics", "read_statistics"]


@dataclass(frozen=True)
class TableStats:
    schema: str
    name: str
    rows: int | None  # pg_class.reltuples; None when never analyzed (-1)
    heap_bytes: int  # relpages of the table (and its TOAST table) x block size
    index_bytes: int  # relpages of its indexes x block size
    indexes: int
    # Rows inserted + updated + deleted per second since the statistics were reset
    # (pg_stat_user_tables / pg_stat_database.stats_reset); None when not collected.
    writes_per_s: float | None = None

    @property
    def qualified(self) -> str:
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"

    @property
    def total_bytes(self) -> int:
        return self.heap_bytes + self.index_bytes


@dataclass(frozen=True)
class TargetStatistics:
    """Every user table's statistics and the server they were read on."""

    server: str  # "host:port" of the server (throughput figures are kept per server)
    tables: tuple[TableStats, ...] = ()

    def table(self, name: str) -> TableStats | None:
        """The statistics of ``name`` as a statement writes it (maybe schema-qualified)."""
        wanted = name.replace('"', "")
        if "." not in wanted:
            wanted_schema, wanted_name = "public", wanted
        else:
            wanted_schema, wanted_name = wanted.rsplit(".", 1)
        for t in self.tables:
            if t.name == wanted_name and t.schema == wanted_schema:
                return t
        return None


_TABLES = """
SELECT n.nspname, c.relname, c.reltuples::float8,
       (c.relpages::bigint + coalesce(t.relpages, 0)) * current_setting('block_size')::bigint,
       coalesce((SELECT sum(i.relpages)::bigint FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = c.oid), 0)
         * current_setting('block_size')::bigint,
       (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid),
       s.n_tup_ins + s.n_tup_upd + s.n_tup_del,
       extract(epoch FROM now() - coalesce(
           (SELECT d.stats_reset FROM pg_stat_database d WHERE d.datname = current_database()),
           pg_postmaster_start_time()))::float8
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
ORDER BY 1, 2
"""


def read_statistics(
    conn: psycopg.Connection[Any],
    *,
    lock_timeout_ms: int = 1000,
    statement_timeout_ms: int = 30_000,
) -> TargetStatistics:
    """Read every user table's statistics on ``conn`` (see the module docstring)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
        conn.execute(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}")
        row = conn.execute(
            "SELECT coalesce(host(inet_server_addr()), 'local socket') || ':' "
            "|| coalesce(inet_server_port(), current_setting('port')::int)"
        ).fetchone()
        server = str(row[0]) if row else "unknown"
        tables = tuple(
            TableStats(
                schema=schema,
                name=name,
                rows=None if reltuples is None or reltuples < 0 else int(reltuples),
                heap_bytes=int(heap),
                index_bytes=int(index),
                indexes=int(count),
                writes_per_s=(
                    float(writes) / age if writes is not None and age and age > 0 else None
                ),
            )
            for schema, name, reltuples, heap, index, count, writes, age in conn.execute(_TABLES)
        )
    return TargetStatistics(server=server, tables=tables)
