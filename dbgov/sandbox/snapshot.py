"""A database's schema, read from the catalog: the fingerprint of the sandbox's templates
and the two sides of drift detection.

The reads are catalog queries only, in a READ ONLY transaction with a short
``lock_timeout`` (``DBGOV["TARGET_LOCK_TIMEOUT_MS"]``): PostgreSQL's deparse functions
take at most ACCESS SHARE (``pg_get_viewdef`` on the tables a view reads), and a read
that would queue behind a migration's lock fails fast instead of waiting. Everything is
named, never identified by OID, so two clusters with the same schema give the same
snapshot. Objects that belong to extensions are left out (the extension is listed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

__all__ = [
    "Column",
    "Constraint",
    "Index",
    "SchemaObject",
    "SchemaSnapshot",
    "Table",
    "read_snapshot",
]

# Schemas that are PostgreSQL's own.
_SYSTEM = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'"
)


def _not_extension_member(catalog: str, oid: str) -> str:
    return (
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = "
        f"'{catalog}'::regclass AND e.objid = {oid} AND e.deptype = 'e')"
    )


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(): "character varying(100)", "bigint", …
    not_null: bool
    default: str | None  # pg_get_expr() of the default
    identity: str = ""  # "a" (ALWAYS), "d" (BY DEFAULT) or ""
    generated: str = ""  # "s" for a stored generated column
    comment: str | None = None


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str  # pg_class.relkind: r, p (partitioned), v, m, f
    columns: tuple[Column, ...] = ()
    comment: str | None = None
    definition: str | None = None  # views: pg_get_viewdef()

    @property
    def qualified(self) -> str:
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Index:
    schema: str
    table: str
    name: str
    definition: str  # pg_get_indexdef()
    constraint: bool  # backs a PRIMARY KEY / UNIQUE / EXCLUDE constraint
    valid: bool = True


@dataclass(frozen=True)
class Constraint:
    schema: str
    table: str
    name: str
    type: str  # pg_constraint.contype: p, u, f, c, x, n (PostgreSQL 18)
    definition: str  # pg_get_constraintdef()
    validated: bool = True


@dataclass(frozen=True)
class SchemaObject:
    """Anything else a migration may depend on: sequences, functions, types, triggers,
    extensions, schemas. ``definition`` is a canonical text of it."""

    kind: str
    name: str
    definition: str


@dataclass(frozen=True)
class SchemaSnapshot:
    tables: tuple[Table, ...] = ()
    indexes: tuple[Index, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    objects: tuple[SchemaObject, ...] = ()
    server_version_num: int = 0
    _digest: list[str] = field(default_factory=list, compare=False, repr=False)

    def digest(self) -> str:
        """A sha256 of everything but the server version (same schema, same digest)."""
        if not self._digest:
            doc = {
                "tables": [asdict(t) for t in self.tables],
                "indexes": [asdict(i) for i in self.indexes],
                "constraints": [asdict(c) for c in self.constraints],
                "objects": [asdict(o) for o in self.objects],
            }
            text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
            self._digest.append(hashlib.sha256(text.encode()).hexdigest())
        return self._digest[0]

    def table(self, qualified: str) -> Table | None:
        for t in self.tables:
            if t.qualified == qualified:
                return t
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": [asdict(t) for t in self.tables],
            "indexes": [asdict(i) for i in self.indexes],
            "constraints": [asdict(c) for c in self.constraints],
            "objects": [asdict(o) for o in self.objects],
            "server_version_num": self.server_version_num,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SchemaSnapshot:
        return cls(
            tables=tuple(
                Table(**{**t, "columns": tuple(Column(**c) for c in t["columns"])})
                for t in doc["tables"]
            ),
            indexes=tuple(Index(**i) for i in doc["indexes"]),
            constraints=tuple(Constraint(**c) for c in doc["constraints"]),
            objects=tuple(SchemaObject(**o) for o in doc["objects"]),
            server_version_num=int(doc.get("server_version_num", 0)),
        )


_COLUMNS = f"""
SELECT n.nspname, c.relname, c.relkind,
       obj_description(c.oid, 'pg_class'),
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
       a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       col_description(c.oid, a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_SYSTEM}
  AND {_not_extension_member("pg_class", "c.oid")}
ORDER BY n.nspname, c.relname, a.attname
"""

_INDEXES = f"""
SELECT n.nspname, t.relname, i.relname, pg_get_indexdef(i.oid),
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.contype IN ('p', 'u', 'x')),
       x.indisvalid
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE {_SYSTEM} AND {_not_extension_member("pg_class", "t.oid")}
ORDER BY 1, 2, 3
"""

_CONSTRAINTS = f"""
SELECT n.nspname, t.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.convalidated
FROM pg_constraint k
JOIN pg_class t ON t.oid = k.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE {_SYSTEM} AND {_not_extension_member("pg_class", "t.oid")}
ORDER BY 1, 2, 3, 5
"""

_OBJECTS = f"""
SELECT 'schema', n.nspname, coalesce(obj_description(n.oid, 'pg_namespace'), '')
FROM pg_namespace n WHERE {_SYSTEM} AND {_not_extension_member("pg_namespace", "n.oid")}
UNION ALL
SELECT 'extension', x.extname, x.extversion || ' in ' || n.nspname
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
UNION ALL
SELECT 'sequence', n.nspname || '.' || c.relname,
       format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement
       || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cycle ' || s.seqcycle
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_SYSTEM} AND {_not_extension_member("pg_class", "c.oid")}
UNION ALL
SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.prokind::text || ' ' || p.provolatile::text || ' ' || format_type(p.prorettype, NULL) || ' '
       || l.lanname || ' ' || md5(coalesce(p.prosrc, ''))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE {_SYSTEM} AND {_not_extension_member("pg_proc", "p.oid")}
UNION ALL
SELECT 'type', n.nspname || '.' || t.typname,
       -- "kind | enum labels | domain base type | composite attributes | constraints"
       t.typtype::text
       || ' | ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                             FROM pg_enum e WHERE e.enumtypid = t.oid), '')
       || ' | ' || CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE '' END
       || CASE WHEN t.typtype = 'd' AND t.typnotnull THEN ' NOT NULL' ELSE '' END
       || ' | ' || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
                    FROM pg_attribute a WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0
                    AND NOT a.attisdropped), '')
       || ' | ' || coalesce((SELECT string_agg(k.conname || ' ' || pg_get_constraintdef(k.oid), ',' ORDER BY k.conname)
                    FROM pg_constraint k WHERE k.contypid = t.oid), '')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE {_SYSTEM} AND t.typtype IN ('e', 'd', 'c', 'r', 'm')
  AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
  AND {_not_extension_member("pg_type", "t.oid")}
UNION ALL
SELECT 'trigger', n.nspname || '.' || c.relname || '.' || g.tgname, pg_get_triggerdef(g.oid)
FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT g.tgisinternal AND {_SYSTEM}
ORDER BY 1, 2
"""


def read_snapshot(
    conn: psycopg.Connection[Any],
    *,
    lock_timeout_ms: int = 1000,
    statement_timeout_ms: int = 60_000,
) -> SchemaSnapshot:
    """Read the schema of ``conn``'s database (see the module docstring)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
        conn.execute(f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}")
        version_row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
        tables: dict[tuple[str, str], dict[str, Any]] = {}
        for (schema, name, kind, comment, viewdef, col, typ, notnull, default, ident, gen,
             col_comment) in conn.execute(_COLUMNS):  # fmt: skip
            entry = tables.setdefault(
                (schema, name),
                {"kind": kind, "comment": comment, "definition": viewdef, "columns": []},
            )
            if col is not None:
                entry["columns"].append(
                    Column(
                        name=col,
                        type=typ,
                        not_null=bool(notnull),
                        default=default,
                        identity=ident or "",
                        generated=gen or "",
                        comment=col_comment,
                    )
                )
        indexes = tuple(
            Index(schema=s, table=t, name=n, definition=d, constraint=bool(c), valid=bool(v))
            for s, t, n, d, c, v in conn.execute(_INDEXES)
        )
        constraints = tuple(
            Constraint(schema=s, table=t, name=n, type=k, definition=d, validated=bool(v))
            for s, t, n, k, d, v in conn.execute(_CONSTRAINTS)
        )
        objects = tuple(
            SchemaObject(kind=k, name=n, definition=d) for k, n, d in conn.execute(_OBJECTS)
        )
    return SchemaSnapshot(
        tables=tuple(
            Table(
                schema=s,
                name=n,
                kind=e["kind"],
                columns=tuple(e["columns"]),
                comment=e["comment"],
                definition=e["definition"],
            )
            for (s, n), e in sorted(tables.items())
        ),
        indexes=indexes,
        constraints=constraints,
        objects=objects,
        server_version_num=int(version_row[0]) if version_row else 0,
    )
