"""Triggers that ``SET pgtrigger.ignore`` cannot skip (installed by migration 0008).

django-pgtrigger's triggers (``Meta.triggers``) stay the first line, but every
function pgtrigger generates starts by consulting the ``pgtrigger.ignore`` setting,
which any role may SET. These plain PL/pgSQL triggers consult nothing, and are
``ENABLE ALWAYS`` so that ``session_replication_role = replica`` does not skip them
either. What remains — the owner's ``DISABLE TRIGGER`` or ``TRUNCATE``, a
superuser's anything — the signed chains detect (dbgov.governance.integrity).
"""

from __future__ import annotations

from typing import Any

APPEND_ONLY_TABLES = (
    "dbgov_approval",
    "dbgov_auditevent",
    "dbgov_ledger",
    "dbgov_migrationauthor",
)

_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION dbgov_guard_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dbgov: cannot % rows of %: the table is append-only', lower(TG_OP), TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION dbgov_guard_four_eyes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1
        FROM dbgov_approvalrequest r
        LEFT JOIN dbgov_task t ON t.id = r.task_id
        WHERE r.id = NEW.request_id
          AND (
              r.requested_by_id = NEW.reviewer_id
              OR t.owner_id = NEW.reviewer_id
              OR EXISTS (
                  SELECT 1 FROM dbgov_migrationauthor a
                  WHERE a.app_label = r.app_label AND a.name = r.migration_name
                    AND a.user_id = NEW.reviewer_id
              )
          )
    ) THEN
        RAISE EXCEPTION 'dbgov: four eyes: user % may not decide on request % of their own task, plan or migration',
            NEW.reviewer_id, NEW.request_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION dbgov_guard_chain_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'dbgov: cannot delete the chain head of %', OLD."table"
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW."table" <> OLD."table" OR NEW.seq < OLD.seq THEN
        RAISE EXCEPTION 'dbgov: the chain head of % only moves forward', OLD."table"
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
"""


# The columns of an approval request that may change (its status moves; a plan or task
# created later is linked); everything else records the finding reviewers decided on.
REQUEST_MUTABLE = ("status", "updated_at", "plan_id", "task_id")

_REQUEST_GUARD = """
CREATE OR REPLACE FUNCTION dbgov_guard_request() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'dbgov: cannot delete rows of dbgov_approvalrequest: requests are kept'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - ARRAY[{mutable}]) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{mutable}]) THEN
        RAISE EXCEPTION 'dbgov: cannot update rows of dbgov_approvalrequest: the finding request % records is frozen', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
"""


def install_sql() -> str:
    parts = [_FUNCTIONS]
    for table in APPEND_ONLY_TABLES:
        parts.append(
            f"CREATE TRIGGER dbgov_guard_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION dbgov_guard_append_only();\n"
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER dbgov_guard_append_only;"
        )
    parts.append(
        "CREATE TRIGGER dbgov_guard_four_eyes BEFORE INSERT ON dbgov_approval "
        "FOR EACH ROW EXECUTE FUNCTION dbgov_guard_four_eyes();\n"
        "ALTER TABLE dbgov_approval ENABLE ALWAYS TRIGGER dbgov_guard_four_eyes;"
    )
    mutable = ", ".join(f"'{c}'" for c in REQUEST_MUTABLE)
    parts.append(_REQUEST_GUARD.replace("{mutable}", mutable))
    parts.append(
        "CREATE TRIGGER dbgov_guard_request BEFORE UPDATE OR DELETE ON dbgov_approvalrequest "
        "FOR EACH ROW EXECUTE FUNCTION dbgov_guard_request();\n"
        "ALTER TABLE dbgov_approvalrequest ENABLE ALWAYS TRIGGER dbgov_guard_request;"
    )
    parts.append(
        "CREATE TRIGGER dbgov_guard_chain_head BEFORE UPDATE OR DELETE ON dbgov_chainhead "
        "FOR EACH ROW EXECUTE FUNCTION dbgov_guard_chain_head();\n"
        "ALTER TABLE dbgov_chainhead ENABLE ALWAYS TRIGGER dbgov_guard_chain_head;"
    )
    return "\n".join(parts)


def uninstall_sql() -> str:
    parts = [f"DROP TRIGGER IF EXISTS dbgov_guard_append_only ON {t};" for t in APPEND_ONLY_TABLES]
    parts += [
        "DROP TRIGGER IF EXISTS dbgov_guard_four_eyes ON dbgov_approval;",
        "DROP TRIGGER IF EXISTS dbgov_guard_chain_head ON dbgov_chainhead;",
        "DROP TRIGGER IF EXISTS dbgov_guard_request ON dbgov_approvalrequest;",
        "DROP FUNCTION IF EXISTS dbgov_guard_request();",
        "DROP FUNCTION IF EXISTS dbgov_guard_append_only();",
        "DROP FUNCTION IF EXISTS dbgov_guard_four_eyes();",
        "DROP FUNCTION IF EXISTS dbgov_guard_chain_head();",
    ]
    return "\n".join(parts)


def sign_existing_rows(apps: Any, schema_editor: Any) -> None:
    """Migration 0008: chain the rows written before dbgov signed them, in id order.

    Uses today's models on purpose: the signature covers today's signed fields.
    """
    import pgtrigger

    from dbgov.governance.integrity import CHAINED_MODELS, chain_rows

    using = schema_editor.connection.alias
    uris = [f"dbgov.{m.__name__}:append_only_update" for m in CHAINED_MODELS]
    with pgtrigger.ignore(*uris):
        for model in CHAINED_MODELS:
            manager = model._default_manager.using(using)
            rows = list(manager.filter(seq__isnull=True).order_by("id"))
            chain_rows(model, rows, using=using, keep_ids=True)
            for row in rows:
                manager.filter(pk=row.pk).update(
                    seq=row.seq, prev_digest=row.prev_digest, digest=row.digest, key_id=row.key_id
                )
