"""Least privilege, generated: ``manage.py dbgov roles --sql``.

Three roles (docs/security.md):

- the **migrator** owns every table and runs ``migrate`` (owners can DISABLE TRIGGER
  and TRUNCATE: the signed chains detect what they do);
- the **application** at run time reads and writes the project's tables and has no
  privilege at all on dbgov's (it cannot insert an approval, disable a trigger,
  truncate, or delete a ledger row);
- the **reviewers' admin** (the Django admin where DBAs decide) reads dbgov's tables
  and may only append decisions, audit events and authors, move request statuses and
  advance chain heads: no UPDATE or DELETE of the append-only tables, no TRUNCATE, no
  ownership. ``SET pgtrigger.ignore`` is open to every role (a custom setting), which
  is why the append-only and four-eyes guards never consult it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connections

__all__ = ["RoleNames", "grants_sql"]

# dbgov tables the reviewers' admin appends to (INSERT only)
_APPEND = ("approval", "auditevent", "migrationauthor", "ledger")
# ... and the columns it may UPDATE (the rest stays frozen by the triggers too)
_UPDATE = {
    "approvalrequest": ("status", "updated_at", "plan_id", "task_id"),
    "chainhead": ("seq", "digest", "key_id", "signature", "updated_at"),
    "task": ("title", "acceptance_criteria", "status", "owner_id", "updated_at"),
}
# plans are stored by whoever runs `dbgov plan` against this database (CI, the admin)
_INSERT_ALSO = (
    "approvalrequest",
    "chainhead",
    "task",
    "plan",
    "planmigration",
    "planoperation",
    "finding",
)


@dataclass(frozen=True)
class RoleNames:
    app: str = "dbgov_app"
    migrator: str = "dbgov_migrator"
    reviewer: str = "dbgov_reviewer"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables() -> tuple[list[str], list[str]]:
    """(dbgov's tables, every other table of the installed apps)."""
    ours: list[str] = []
    others: list[str] = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy:
            continue
        (ours if meta.app_label == "dbgov" else others).append(meta.db_table)
    return sorted(set(ours)), sorted(set(others) | {"django_migrations"})


def grants_sql(roles: RoleNames = RoleNames(), database: str = "default") -> str:
    """The SQL that creates the three roles (NOLOGIN: add LOGIN users to them) and
    grants each what it needs, on the database of alias ``database``."""
    ours, others = _tables()
    dbname = connections[database].settings_dict["NAME"]
    app, mig, rev = _q(roles.app), _q(roles.migrator), _q(roles.reviewer)
    lines = [
        f"-- dbgov least-privilege roles for database {dbname!r} "
        "(manage.py dbgov roles --sql); run as a superuser, in one transaction.",
        "BEGIN;",
    ]
    for role in (roles.migrator, roles.app, roles.reviewer):
        lines.append(
            f"DO $$ BEGIN CREATE ROLE {_q(role)} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
        )
    lines += [
        f"GRANT CONNECT ON DATABASE {_q(dbname)} TO {app}, {rev};",
        f"GRANT USAGE ON SCHEMA public TO {app}, {rev};",
        "-- the migrator owns every table: only it can ALTER, DISABLE TRIGGER, TRUNCATE",
        f"GRANT CREATE ON SCHEMA public TO {mig};",
    ]
    lines += [f"ALTER TABLE {_q(t)} OWNER TO {mig};" for t in ours + others]
    lines.append("-- the application: the project's tables, nothing of dbgov's")
    for t in others:
        privileges = "SELECT" if t == "django_migrations" else "SELECT, INSERT, UPDATE, DELETE"
        lines.append(f"GRANT {privileges} ON {_q(t)} TO {app};")
    lines.append(f"REVOKE ALL ON {', '.join(_q(t) for t in ours)} FROM {app};")
    lines.append("-- the reviewers' admin: read dbgov, append decisions, move statuses")
    lines.append(f"GRANT SELECT ON {', '.join(_q(t) for t in ours + others)} TO {rev};")
    for short in _APPEND + _INSERT_ALSO:
        table = f"dbgov_{short}"
        if table in ours:
            lines.append(f"GRANT INSERT ON {_q(table)} TO {rev};")
    for short, columns in _UPDATE.items():
        lines.append(f"GRANT UPDATE ({', '.join(columns)}) ON {_q('dbgov_' + short)} TO {rev};")
    lines.append("-- rehearsals the admin starts and the worker records (not append-only)")
    for short in ("explainrun", "queryplan", "migrationrehearsal", "querypattern", "seed_loads"):
        if f"dbgov_{short}" in ours:
            lines.append(f"GRANT INSERT, UPDATE ON {_q('dbgov_' + short)} TO {rev};")
    lines.append("-- the admin's own session and user tables")
    for t in others:
        if t.startswith(("auth_", "django_session", "django_admin_log", "django_content_type")):
            lines.append(f"GRANT INSERT, UPDATE, DELETE ON {_q(t)} TO {rev};")
    lines.append(
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {rev};  "
        "-- ids are signed: taken with nextval before the INSERT"
    )
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"
