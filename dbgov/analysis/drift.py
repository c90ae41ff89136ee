"""Schema drift: the target's schema against the schema its applied migrations produce.

Both sides are catalog snapshots (dbgov.sandbox.snapshot): the target's, read in
place, and the sandbox's after rendering the applied migrations from an empty database.
Every difference is a ``schema-drift`` finding: something created, dropped or changed
by hand (or by a migration edited after it was applied). Missing objects and changed
definitions need review: Django's introspection on the target will not find what the
migrations expect. Objects only the target has are warnings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..sandbox.snapshot import Column, Constraint, Index, SchemaSnapshot, Table
from .model import Finding, Severity

__all__ = ["RULE_ID", "compare"]

RULE_ID = "schema-drift"
SAFE_ALTERNATIVE = (
    "Make the target match its migrations again: undo the manual change, or capture it "
    "in a migration (for a change made by hand on purpose, a migration with "
    "SeparateDatabaseAndState that records it without running it again). Never edit an "
    "applied migration."
)


@dataclass(frozen=True)
class _Diff:
    severity: Severity
    table: str | None
    message: str


def _finding(d: _Diff, cap: Severity | None) -> Finding:
    severity = d.severity
    if cap is not None and severity.rank > cap.rank:
        severity = cap
    return Finding(
        rule_id=RULE_ID,
        severity=severity,
        message=d.message,
        safe_alternative=SAFE_ALTERNATIVE,
        table=d.table,
    )


def _kind(table: Table) -> str:
    return {"v": "view", "m": "materialized view", "f": "foreign table"}.get(table.kind, "table")


def _columns(expected: Table, actual: Table) -> Iterable[_Diff]:
    name = expected.qualified
    want = {c.name: c for c in expected.columns}
    have = {c.name: c for c in actual.columns}
    for col in sorted(want.keys() - have.keys()):
        yield _Diff(
            Severity.CARE,
            name,
            f"column {name}.{col} is missing on the target (the migrations create it)",
        )
    for col in sorted(have.keys() - want.keys()):
        yield _Diff(
            Severity.WARNING,
            name,
            f"column {name}.{col} exists on the target but no migration creates it",
        )
    for col in sorted(want.keys() & have.keys()):
        yield from _column(name, want[col], have[col])


def _column(table: str, want: Column, have: Column) -> Iterable[_Diff]:
    where = f"{table}.{want.name}"
    if want.type != have.type:
        yield _Diff(
            Severity.CARE,
            table,
            f"column {where} is {have.type} on the target, the migrations make it {want.type}",
        )
    if want.not_null != have.not_null:
        state = "NOT NULL" if have.not_null else "nullable"
        wanted = "NOT NULL" if want.not_null else "nullable"
        yield _Diff(
            Severity.CARE,
            table,
            f"column {where} is {state} on the target, the migrations make it {wanted}",
        )
    if (want.default or None) != (have.default or None):
        yield _Diff(
            Severity.CARE,
            table,
            f"column {where} has default {have.default or 'none'} on the target, the "
            f"migrations give it {want.default or 'none'}",
        )
    if want.identity != have.identity or want.generated != have.generated:
        yield _Diff(
            Severity.CARE,
            table,
            f"column {where}: identity/generated differs from the migrations "
            f"(target {have.identity or '-'}/{have.generated or '-'}, migrations "
            f"{want.identity or '-'}/{want.generated or '-'})",
        )


def _named(
    kind: str,
    want: dict[tuple[str, str], Index | Constraint],
    have: dict[tuple[str, str], Index | Constraint],
) -> Iterable[_Diff]:
    missing = {k: v for k, v in want.items() if k not in have}
    extra = {k: v for k, v in have.items() if k not in want}
    renamed: set[tuple[str, str]] = set()
    for key, obj in sorted(missing.items()):
        twin = next(
            (
                k
                for k, o in extra.items()
                if k[0] == key[0] and _body(o) == _body(obj) and k not in renamed
            ),
            None,
        )
        table = key[0]
        if twin is not None:
            renamed.add(twin)
            yield _Diff(
                Severity.WARNING,
                table,
                f"{kind} {key[1]} on {table} is named {twin[1]} on the target (same definition)",
            )
        else:
            yield _Diff(
                Severity.CARE,
                table,
                f"{kind} {key[1]} on {table} is missing on the target: {obj.definition}",
            )
    for key, obj in sorted(extra.items()):
        if key in renamed:
            continue
        yield _Diff(
            Severity.WARNING,
            key[0],
            f"{kind} {key[1]} on {key[0]} exists on the target but no migration creates it: "
            f"{obj.definition}",
        )
    for key in sorted(want.keys() & have.keys()):
        if _body(want[key]) != _body(have[key]):
            yield _Diff(
                Severity.CARE,
                key[0],
                f"{kind} {key[1]} on {key[0]} differs: the target has {have[key].definition}, "
                f"the migrations make {want[key].definition}",
            )
        elif isinstance(have[key], Index) and not have[key].valid:  # type: ignore[union-attr]
            yield _Diff(
                Severity.CARE,
                key[0],
                f"index {key[1]} on {key[0]} is INVALID on the target (a failed CREATE INDEX "
                "CONCURRENTLY): drop it and build it again",
            )


def _body(obj: Index | Constraint) -> str:
    """The definition without the object's own name (to pair renamed objects)."""
    if isinstance(obj, Index):
        return obj.definition.replace(f" {obj.name} ", " ", 1)
    return f"{obj.type} {obj.definition}"


def _qualified(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def compare(
    expected: SchemaSnapshot, actual: SchemaSnapshot, *, severity_cap: str | None = None
) -> list[Finding]:
    """Findings for every difference between ``expected`` (the migrations') and ``actual``."""
    cap = Severity(severity_cap) if severity_cap else None
    diffs: list[_Diff] = []
    want_tables = {t.qualified: t for t in expected.tables}
    have_tables = {t.qualified: t for t in actual.tables}
    for name in sorted(want_tables.keys() - have_tables.keys()):
        kind = _kind(want_tables[name])
        diffs.append(
            _Diff(
                Severity.CARE,
                name,
                f"{kind} {name} is missing on the target (the migrations create it)",
            )
        )
    for name in sorted(have_tables.keys() - want_tables.keys()):
        kind = _kind(have_tables[name])
        diffs.append(
            _Diff(
                Severity.WARNING,
                name,
                f"{kind} {name} exists on the target but no migration creates it",
            )
        )
    for name in sorted(want_tables.keys() & have_tables.keys()):
        diffs.extend(_columns(want_tables[name], have_tables[name]))
        w, h = want_tables[name].definition, have_tables[name].definition
        if w != h:
            diffs.append(
                _Diff(
                    Severity.CARE, name, f"view {name}: its definition differs from the migrations'"
                )
            )
    shared = want_tables.keys() & have_tables.keys()

    def keyed(objs: Iterable[Index | Constraint]) -> dict[tuple[str, str], Index | Constraint]:
        # Objects of tables that exist on one side only were reported with the table.
        return {
            (_qualified(o.schema, o.table), o.name): o
            for o in objs
            if _qualified(o.schema, o.table) in shared
        }

    diffs.extend(_named("index", keyed(expected.indexes), keyed(actual.indexes)))
    diffs.extend(_named("constraint", keyed(expected.constraints), keyed(actual.constraints)))
    want_objects = {(o.kind, o.name): o for o in expected.objects}
    have_objects = {(o.kind, o.name): o for o in actual.objects}
    for key in sorted(want_objects.keys() - have_objects.keys()):
        diffs.append(_Diff(Severity.WARNING, None, f"{key[0]} {key[1]} is missing on the target"))
    for key in sorted(have_objects.keys() - want_objects.keys()):
        diffs.append(
            _Diff(
                Severity.WARNING,
                None,
                f"{key[0]} {key[1]} exists on the target but no migration creates it",
            )
        )
    for key in sorted(want_objects.keys() & have_objects.keys()):
        if want_objects[key].definition != have_objects[key].definition:
            diffs.append(
                _Diff(
                    Severity.WARNING,
                    None,
                    f"{key[0]} {key[1]} differs from what the migrations make",
                )
            )
    return [_finding(d, cap) for d in diffs]
