"""Attach SQL facts (sql.py) to every rendered statement and mark new tables.

"New tables are not hot": a table created earlier in the same plan has no traffic
yet, so locking rules skip it (convention rules still apply).
"""

from __future__ import annotations

from .model import Plan
from .sql import analyse_statement


def normalize_table(name: str) -> str:
    """Compare table names the way PostgreSQL resolves unquoted ones in ``public``."""
    bare = name.replace('"', "").lower()
    return bare[len("public.") :] if bare.startswith("public.") else bare


def attach_facts(plan: Plan) -> set[str]:
    """Fill ``Statement.facts`` and ``Statement.new_table``; return the created tables."""
    created: set[str] = set()
    for migration in plan.migrations:
        for operation in migration.operations:
            for statement in operation.statements:
                facts = analyse_statement(statement.sql, pg_version=plan.server_version)
                statement.facts = facts
                tables = {normalize_table(t) for t in facts.tables}
                if facts.kind == "CREATE TABLE":
                    created.update(tables)
                    statement.new_table = True
                else:
                    statement.new_table = bool(tables) and tables <= created
    return created
