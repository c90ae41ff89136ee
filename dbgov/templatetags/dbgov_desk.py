"""Template tags of the DBA's desk: one badge per fact, one colour scale, Markdown.

Every dbgov page draws locks, rewrites, scans, severities and statuses through these
tags, so a colour means the same thing everywhere and every badge explains itself on
hover (``title``). The scale has four steps, from "nothing waits" to "everything
waits": ``ok`` (green), ``low`` (amber), ``high`` (orange), ``max`` (red).
"""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# From PostgreSQL's "Explicit Locking" chapter: what each table lock lets others do.
LOCKS: dict[str, tuple[str, str]] = {
    "ACCESS SHARE": ("ok", "Taken by SELECT. Only ACCESS EXCLUSIVE waits for it."),
    "ROW SHARE": ("ok", "SELECT … FOR UPDATE/SHARE. Reads and writes go on."),
    "ROW EXCLUSIVE": (
        "ok",
        "Taken by INSERT, UPDATE, DELETE. Reads and writes go on; CREATE INDEX and "
        "stronger locks wait.",
    ),
    "SHARE UPDATE EXCLUSIVE": (
        "low",
        "VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT. Reads and writes "
        "go on; other schema changes wait.",
    ),
    "SHARE": (
        "high",
        "CREATE INDEX (not concurrently). Reads go on; INSERT, UPDATE and DELETE wait "
        "until the transaction ends.",
    ),
    "SHARE ROW EXCLUSIVE": (
        "high",
        "ADD FOREIGN KEY, CREATE TRIGGER. Reads go on; writes wait until the transaction ends.",
    ),
    "EXCLUSIVE": (
        "high",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY. Only plain reads go on.",
    ),
    "ACCESS EXCLUSIVE": (
        "max",
        "Most ALTER TABLE forms, DROP, TRUNCATE, RENAME. Every read and write of the table "
        "waits until the transaction ends.",
    ),
}

FACTS: dict[str, tuple[str, str, str]] = {
    # key: (label, level, explanation)
    "rewrite": (
        "rewrite",
        "max",
        "Rewrites the whole table into new files: the lock is held for as long as copying "
        "every row takes, and the disk needs room for a second copy.",
    ),
    "scan": (
        "scan",
        "high",
        "Reads every row of the table (to validate a constraint or build an index) while "
        "holding the lock: the bigger the table, the longer others wait.",
    ),
    "no-transaction": (
        "outside a transaction",
        "low",
        "Runs outside a transaction (non-atomic migration or CONCURRENTLY): a failure "
        "half-way is not rolled back and may leave an INVALID index to drop.",
    ),
    "in-transaction": (
        "in transaction",
        "ok",
        "Runs in the migration's transaction: its locks are held until COMMIT.",
    ),
    "irreversible": (
        "irreversible",
        "max",
        "No reverse operation: `migrate` cannot roll this migration back.",
    ),
    "deferred": (
        "deferred",
        "ok",
        "Django runs this statement at the end of the migration (constraints and indexes "
        "of new tables).",
    ),
    "new-table": (
        "new table",
        "ok",
        "The table is created earlier in the same plan: nobody uses it yet, so its locks "
        "block nobody.",
    ),
    "mine": (
        "yours",
        "low",
        "Four eyes: this is your task or your plan, so someone else must decide on it.",
    ),
    "stale": (
        "stale",
        "high",
        "The migration changed since these approvals were given: they no longer count.",
    ),
    "applied-unapproved": (
        "applied without approval",
        "max",
        "The migration is already applied on this database although this finding was "
        "never approved.",
    ),
}

SEVERITIES: dict[str, tuple[str, str]] = {
    "info": ("ok", "Safe; shown for context."),
    "warning": ("low", "Convention or advice; never blocks."),
    "requires-care": ("high", "A reviewer must approve it before it ships."),
    "never-without-a-plan": ("max", "Two reviewers must approve an explicit plan."),
    "error": ("max", "dbgov could not analyse it; a human must look."),
}

STATUSES: dict[str, str] = {
    "succeeded": "ok",
    "approved": "ok",
    "applied": "ok",
    "queued": "low",
    "running": "low",
    "open": "low",
    "in_review": "low",
    "draft": "low",
    "stale": "high",
    "rejected": "max",
    "failed": "max",
}


def lock_level(lock: str) -> str:
    return LOCKS.get(lock, ("ok", ""))[0]


@register.simple_tag
def lock_badge(lock: str, table: str = "") -> SafeString | str:
    """A lock mode (optionally on a table), coloured by what it blocks, explained on hover."""
    if not lock:
        return ""
    level, why = LOCKS.get(lock, ("ok", ""))
    text = f"{lock} on {table}" if table else lock
    return format_html(
        '<span class="dbgov-badge dbgov-level-{}" title="{}">{}</span>', level, why, text
    )


@register.simple_tag
def fact_badge(fact: str, suffix: str = "") -> SafeString:
    label, level, why = FACTS[fact]
    if suffix:
        label = f"{label} {suffix}"
    return format_html(
        '<span class="dbgov-badge dbgov-level-{} dbgov-fact-{}" title="{}">{}</span>',
        level,
        fact,
        why,
        label,
    )


@register.simple_tag
def severity_badge(severity: str) -> SafeString:
    level, why = SEVERITIES.get(severity, ("ok", ""))
    return format_html(
        '<span class="dbgov-badge dbgov-level-{} dbgov-sev-{}" title="{}">{}</span>',
        level,
        severity,
        why,
        severity.replace("-", " "),
    )


@register.simple_tag
def status_badge(status: str, display: str = "") -> SafeString:
    return format_html(
        '<span class="dbgov-status dbgov-level-{}">{}</span>',
        STATUSES.get(status, "ok"),
        display or status.replace("_", " "),
    )


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # CommonMark without raw HTML: rule texts are ours, but escaping costs nothing.
    return MarkdownIt("commonmark", {"html": False})


@register.filter
def markdown(text: str) -> SafeString:
    """Rule texts (safe alternatives) are Markdown: `code`, lists, emphasis."""
    if not text:
        return mark_safe("")
    return mark_safe(_markdown().render(text))  # noqa: S308 (html disabled: escaped)


@register.filter
def percent(value: float | None) -> str:
    """0.42 → "42" for widths of bars."""
    return f"{max(0.0, min(float(value or 0.0), 1.0)) * 100:.1f}"


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


@register.simple_tag
def plan_tree_rows(tree: Any) -> SafeString:
    """The rows of a plan tree table (dbgov/explain/_plan.html).

    Drawn in Python rather than in the template language: a partitioned table's plan
    has thousands of nodes, and this is ~5x faster per row (bench/admin_render.py).
    """
    from django.utils.html import escape

    rows = []
    for n in tree.nodes:
        classes = ("dbgov-slowest " if n.slowest else "") + (
            "dbgov-worst-estimate" if n.worst_estimate else ""
        )
        flags = ""
        if n.slowest:
            flags += ' <span class="dbgov-flag">slowest</span>'
        if n.worst_estimate:
            flags += (
                ' <span class="dbgov-flag" title="the node whose per-loop row estimate is '
                'furthest off">worst estimate</span>'
            )
        details = ""
        if n.index or n.relation:
            where = (f"using {n.index} " if n.index else "") + (
                f"on {n.relation}" if n.relation else ""
            )
            details += f'<div class="dbgov-detail">{escape(where)}</div>'
        for key, value in n.details:
            details += f'<div class="dbgov-detail">{escape(key)}: {escape(value)}</div>'
        if n.notes:
            details += f'<div class="dbgov-detail dbgov-notes">{escape(" · ".join(n.notes))}</div>'
        est_class = "num dbgov-est" + (" dbgov-misestimate" if n.misestimated else "")
        est_title = f"off by ×{n.misestimate:.1f}" if n.misestimate else ""
        factor = f"<br>×{n.misestimate:,.0f}" if n.misestimated else ""
        time_pct, buf_pct = percent(n.time_share), percent(n.buffer_share)
        rows.append(
            f'<tr class="{classes.strip()}">'
            f'<td class="dbgov-node" style="padding-left: calc({n.depth} * 1em + 5px);">'
            f"{'→ ' if n.depth else ''}<strong>{escape(n.node_type)}</strong>{flags}{details}</td>"
            f'<td class="num">{_num(n.self_ms, 3)}<span class="dbgov-bars"><span class="dbgov-bar" '
            f'style="width: {time_pct}%" title="{time_pct}% of the query\'s time"></span></span></td>'
            f'<td class="{est_class}" title="{est_title}">{_num(n.actual_rows)} / '
            f"{_num(n.plan_rows)}{factor}</td>"
            f'<td class="num">{n.loops}</td>'
            f'<td class="num">{n.self_blocks}<span class="dbgov-bars"><span class="dbgov-bar '
            f'dbgov-bar-buffers" style="width: {buf_pct}%" title="{buf_pct}% of the query\'s '
            f'buffers"></span></span></td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (every value escaped above)


@register.simple_tag
def aligned_rows(aligned: Any) -> SafeString:
    """Rows of the before/after step table (dbgov/explain/_compare.html), in Python for
    the same reason as :func:`plan_tree_rows`."""
    from django.utils.html import escape

    def delta(value: float | None, digits: int, unit: str = "") -> str:
        if value is None:
            return '<td class="num"></td>'
        tone = " dbgov-delta-worse" if value > 0 else " dbgov-delta-better" if value < 0 else ""
        return f'<td class="num{tone}">{value:+,.{digits}f}{unit}</td>'

    rows = []
    for a in aligned:
        before = escape(a.before.label) if a.before else "—"
        after = escape(a.after.label) if a.after else "—"
        rows.append(
            f'<tr class="{"dbgov-changed" if a.changed else ""}">'
            f'<td class="dbgov-node">{before}</td><td class="dbgov-node">{after}</td>'
            f"{delta(a.delta_ms, 3, ' ms')}{delta(a.delta_rows, 0)}{delta(a.delta_blocks, 0)}</tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (labels escaped above)
