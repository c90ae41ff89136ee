"""Findings out: text for people, JSON (schema dbgov/schemas/plan.schema.json), SARIF 2.1.0.

Pure functions over a Plan; the command decides where the output goes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from .. import __version__
from .model import Finding, Migration, Operation, Plan, Severity, Statement
from .risk import Estimate, describe

JSON_SCHEMA_VERSION = 1
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

# "safe" is the class of an operation without findings (DESIGN.md's safety classes).
SAFE = "safe"


def fingerprint(finding: Finding, sha256: str | None) -> str:
    """Stable identity of a finding: the migration's content (``Migration.content_sha256``:
    its file and the SQL it renders), operation and rule.

    Editing the migration file, or anything it reads, changes it: approvals go stale.
    """
    raw = f"{sha256 or ''}:{finding.app_label}.{finding.migration}:{finding.operation_index}:{finding.rule_id}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _by_operation(plan: Plan) -> dict[tuple[str, str, int | None], list[Finding]]:
    found: dict[tuple[str, str, int | None], list[Finding]] = {}
    for f in plan.findings:
        found.setdefault((f.app_label or "", f.migration or "", f.operation_index), []).append(f)
    return found


def risk_class(findings: Iterable[Finding]) -> str:
    """The worst unsuppressed severity, or "safe"."""
    active = [f.severity for f in findings if f.suppressed is None]
    if not active:
        return SAFE
    return max(active, key=lambda s: s.rank).value


def summary(plan: Plan) -> dict[str, Any]:
    counts = Counter(f.severity.value for f in plan.findings if f.suppressed is None)
    selected = plan.selected
    return {
        "migrations": len(selected),
        "operations": sum(len(m.operations) for m in selected),
        "statements": sum(len(o.statements) for m in selected for o in m.operations),
        "findings": {s.value: counts.get(s.value, 0) for s in Severity},
        "suppressed": sum(1 for f in plan.findings if f.suppressed is not None),
        "needs_review": sum(1 for f in plan.findings if f.needs_review),
    }


# -- JSON ------------------------------------------------------------------------------


def estimate_json(e: Estimate | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "table": e.table,
        "kind": e.kind,
        "lock": e.lock.value,
        "rows": e.rows,
        "bytes": e.bytes,
        "seconds": None if e.seconds is None else round(e.seconds, 3),
        "held_s": None if e.held_s is None else round(e.held_s, 3),
        "rate_source": e.rate_source,
        "writes_per_s": e.writes_per_s,
        "new_table": e.new_table,
        "absent": e.absent,
        "rehearsed_s": e.rehearsed_s,
        "rehearsed_rows": e.rehearsed_rows,
        "text": describe(e),
    }


def _statement_json(s: Statement) -> dict[str, Any]:
    facts = s.facts
    return {
        "sql": s.sql,
        "deferred": s.deferred,
        "position": s.position,
        "failed": s.failed,
        "new_table": s.new_table,
        "kind": facts.kind if facts else None,
        "tables": list(facts.tables) if facts else [],
        "lock": facts.lock.value if facts and facts.lock else None,
        "locks": [
            {"table": t.table, "lock": t.lock.value, "rewrites": t.rewrites, "scans": t.scans}
            for t in (facts.locks if facts else ())
        ],
        "rewrites": bool(facts and facts.rewrites),
        "scans": bool(facts and facts.scans),
        "transactional": facts.transactional if facts else True,
        "actions": list(facts.actions) if facts else [],
        "parse_error": facts.parse_error if facts else None,
        "estimate": estimate_json(s.estimate),
    }


def _finding_json(f: Finding, sha256: str | None) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "severity": f.severity.value,
        "message": f.message,
        "safe_alternative": f.safe_alternative,
        "app_label": f.app_label,
        "migration": f.migration,
        "operation_index": f.operation_index,
        "statement_index": f.statement_index,
        "path": f.path,
        "line": f.line,
        "table": f.table,
        "lock": f.lock.value if f.lock else None,
        "rewrites": f.rewrites,
        "scans": f.scans,
        "suppressed": f.suppressed,
        "needs_review": f.needs_review,
        "fingerprint": fingerprint(f, sha256),
        "estimate": estimate_json(f.estimate),
    }


def to_json(plan: Plan) -> dict[str, Any]:
    grouped = _by_operation(plan)
    sha = {m.key: m.content_sha256 for m in plan.migrations}

    def op_json(m: Migration, o: Operation) -> dict[str, Any]:
        return {
            "index": o.index,
            "type": o.type,
            "description": o.description,
            "line": o.line,
            "renders_sql": o.renders_sql,
            "reversible": o.reversible,
            "error": o.error,
            "risk": risk_class(grouped.get((m.app_label, m.name, o.index), [])),
            "details": o.details,
            "statements": [_statement_json(s) for s in o.statements],
        }

    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "dbgov", "version": __version__},
        "database": plan.database,
        "server_version": plan.server_version,
        "selection": plan.selection,
        "task": plan.task,
        "sandbox": plan.sandbox,
        "cache_hits": plan.cache_hits,
        "notes": list(plan.notes),
        "duration_s": round(plan.duration_s, 3),
        "summary": summary(plan),
        "migrations": [
            {
                "app_label": m.app_label,
                "name": m.name,
                "path": m.path,
                "task": m.task,
                "atomic": m.atomic,
                "sha256": m.sha256,
                "replaces": [list(r) for r in m.replaces],
                "risk": risk_class(f for f in plan.findings if (f.app_label, f.migration) == m.key),
                "phase": m.phase,
                "phase_reasons": list(m.phase_reasons),
                "operations": [op_json(m, o) for o in m.operations],
            }
            for m in plan.selected
        ],
        "findings": [
            _finding_json(f, sha.get((f.app_label or "", f.migration or ""))) for f in plan.findings
        ],
    }


# -- SARIF -------------------------------------------------------------------------------

_SARIF_LEVEL = {
    Severity.INFO: "note",
    Severity.WARNING: "warning",
    Severity.CARE: "warning",
    Severity.PLAN: "error",
    Severity.ERROR: "error",
}


def to_sarif(plan: Plan, rules: Iterable[Any] = ()) -> dict[str, Any]:
    """SARIF 2.1.0: one result per finding, located at the migration file and line."""
    catalogue = {r.id: r for r in rules}
    used = sorted({f.rule_id for f in plan.findings})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    sha = {m.key: m.content_sha256 for m in plan.migrations}
    phase = {m.key: m.phase for m in plan.migrations}

    def rule_json(rule_id: str) -> dict[str, Any]:
        rule = catalogue.get(rule_id)
        severity = rule.severity if rule else Severity.CARE
        return {
            "id": rule_id,
            "name": "".join(part.title() for part in rule_id.split("-")),
            "shortDescription": {"text": rule.summary if rule else rule_id},
            "fullDescription": {"text": rule.why if rule else rule_id},
            "help": {
                "text": rule.safe_alternative if rule else "",
                "markdown": f"**Instead:** {rule.safe_alternative}" if rule else "",
            },
            "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
            "properties": {"severity": severity.value, "category": getattr(rule, "category", "")},
        }

    results = []
    for f in plan.findings:
        result: dict[str, Any] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.message} Instead: {f.safe_alternative}"},
            "partialFingerprints": {
                "dbgovFinding/v1": fingerprint(f, sha.get((f.app_label or "", f.migration or "")))
            },
            "properties": {
                "severity": f.severity.value,
                "migration": f.migration_label,
                "phase": phase.get((f.app_label or "", f.migration or "")),
                "operationIndex": f.operation_index,
                "lock": f.lock.value if f.lock else None,
                "rewrites": f.rewrites,
                "scans": f.scans,
                "estimate": estimate_json(f.estimate),
            },
        }
        if f.path:
            location: dict[str, Any] = {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                }
            }
            if f.line:
                location["physicalLocation"]["region"] = {"startLine": f.line}
            result["locations"] = [location]
        if f.suppressed:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dbgov",
                        "version": __version__,
                        "informationUri": "https://github.com/dbgov/dbgov",
                        "rules": [rule_json(r) for r in used],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The project root"}}},
                "results": results,
            }
        ],
    }


# -- text --------------------------------------------------------------------------------


class _Plain:
    """The subset of django.core.management.color.Style the text report uses."""

    def __getattr__(self, name: str) -> Callable[[str], str]:
        return lambda text: text


def _severity_style(style: Any, severity: str) -> Callable[[str], str]:
    return {
        SAFE: style.SUCCESS,
        Severity.INFO.value: style.HTTP_INFO,
        Severity.WARNING.value: style.WARNING,
        Severity.CARE.value: style.WARNING,
        Severity.PLAN.value: style.ERROR,
        Severity.ERROR.value: style.ERROR,
    }.get(severity, style.NOTICE)


def _facts_line(s: Statement) -> str:
    f = s.facts
    if f is None:
        return ""
    if f.parse_error:
        return f"does not parse: {f.parse_error}"
    bits = []
    if f.lock:
        tables = ", ".join(sorted({t.table for t in f.locks if t.lock == f.lock}))
        bits.append(f"{f.lock.value} on {tables}" if tables else f.lock.value)
    if f.rewrites:
        bits.append("REWRITES table")
    elif f.scans:
        bits.append("scans table")
    if not f.transactional:
        bits.append("no transaction")
    if s.new_table:
        bits.append("new table")
    return " · ".join(bits)


def render_text(plan: Plan, style: Any = None, *, show_sql: bool = True) -> str:
    """A report per migration for people; ``style`` is a Django Style (colours)."""
    style = style or _Plain()
    grouped = _by_operation(plan)
    out: list[str] = []
    selected = plan.selected
    head = f"dbgov plan · database {plan.database!r}"
    if plan.server_version:
        head += f" · PostgreSQL {plan.server_version // 10000}.{plan.server_version % 10000}"
    if plan.task:
        head += f" · task {plan.task}"
    out.append(style.MIGRATE_HEADING(head))
    for note in plan.notes:
        out.append(style.NOTICE(f"note: {note}"))
    general = grouped.get(("", "", None), [])
    if general:
        out.append("")
        out.append(style.MIGRATE_HEADING("The database itself:"))
        for f in general:
            out.extend(_finding_lines(style, f))
    if not selected:
        out.append(
            "No pending migrations." if plan.selection == "pending" else "No migrations selected."
        )
    for m in selected:
        m_findings = [f for f in plan.findings if (f.app_label, f.migration) == m.key]
        risk = risk_class(m_findings)
        out.append("")
        out.append(
            style.MIGRATE_HEADING(f"{m.label}")
            + f"  task {m.task or style.ERROR('none')}"
            + f"  [{_severity_style(style, risk)(risk)}]"
            + f"  {m.phase}-deploy"
        )
        for reason in m.phase_reasons:
            out.append("  " + style.NOTICE(f"{m.phase}-deploy: {reason}"))
        out.append(f"  {m.path or '?'}" + ("" if m.atomic else "  (atomic = False)"))
        for f in grouped.get((m.app_label, m.name, None), []):
            out.extend(_finding_lines(style, f))
        for o in m.operations:
            o_findings = grouped.get((m.app_label, m.name, o.index), [])
            o_risk = risk_class(o_findings)
            line = f" (line {o.line})" if o.line else ""
            out.append(
                f"  {o.index}. {o.description}{line}  "
                + _severity_style(style, o_risk)(f"[{o_risk}]")
                + ("" if o.reversible else "  " + style.WARNING("irreversible"))
            )
            if not o.renders_sql:
                out.append("       " + style.NOTICE("runs Python: no SQL to show"))
            elif o.error:
                out.append("       " + style.ERROR(f"SQL not rendered: {o.error}"))
            elif not o.statements:
                out.append("       " + style.NOTICE("no SQL (state only)"))
            if show_sql:
                for s in o.statements:
                    if not s.deferred:
                        out.extend(_statement_lines(style, s))
            for f in o_findings:
                out.extend(_finding_lines(style, f))
        deferred = [(o, s) for o, s in m.statements_in_order() if s.deferred]
        if show_sql and deferred:
            out.append(
                "  " + style.NOTICE("at the end of the migration (deferred SQL, in this order):")
            )
            for o, s in deferred:
                out.extend(_statement_lines(style, s, owner=o.index))
    counts = summary(plan)
    out.append("")
    parts = [f"{n} {s}" for s, n in counts["findings"].items() if n]
    tail = ", ".join(parts) if parts else "no findings"
    out.append(
        f"{counts['migrations']} migration(s), {counts['operations']} operation(s), "
        f"{counts['statements']} statement(s): {tail}"
        + (f", {counts['suppressed']} suppressed" if counts["suppressed"] else "")
    )
    if counts["needs_review"]:
        out.append(style.WARNING(f"{counts['needs_review']} finding(s) need review."))
    else:
        out.append(style.SUCCESS("Nothing needs review."))
    return "\n".join(out) + "\n"


def _statement_lines(style: Any, s: Statement, *, owner: int | None = None) -> list[str]:
    lines = ["       " + style.SQL_KEYWORD(s.sql)]
    facts = _facts_line(s)
    if owner is not None:
        facts = f"from operation {owner}" + (f" · {facts}" if facts else "")
    if facts:
        lines.append("         " + style.NOTICE(facts))
    if s.estimate is not None and not s.estimate.new_table:
        rate = s.estimate.writes_per_s
        busy = f" · {rate:.1f} writes/s on it" if rate else ""
        lines.append("         " + style.NOTICE(f"estimate: {describe(s.estimate)}{busy}"))
    if s.failed:
        lines.append("         " + style.ERROR(f"the sandbox refused it: {s.failed}"))
    return lines


def _finding_lines(style: Any, f: Finding) -> list[str]:
    tag = _severity_style(style, f.severity.value)(f"{f.severity.value}")
    lines = [f"       ! {tag} {style.HTTP_INFO(f.rule_id)}: {f.message}"]
    if f.suppressed:
        lines.append(f"         suppressed: {f.suppressed}")
    else:
        lines.append(f"         instead: {f.safe_alternative}")
    return lines
