"""Session and transaction statements: BEGIN / COMMIT / …, SET / RESET (timeouts in
milliseconds), SET CONSTRAINTS, DO blocks, GRANT / REVOKE."""

from __future__ import annotations

import re
from typing import Any

from dbgov.analysis.details import (
    Detail,
    DoDetail,
    SetConstraintsDetail,
    SetDetail,
    TransactionDetail,
)
from dbgov.analysis.model import StatementFacts

from .context import _make
from .tree import Node, _const, _rv_name, _unwrap


def _do(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    details = DoDetail()
    for item in body.get("args", ()):
        _, de = _unwrap(item)
        if de.get("defname") == "as":
            details.body = _const(de.get("arg"))
        elif de.get("defname") == "language":
            details.language = str(_const(de.get("arg")))
    return _make(text, node, "DO", None, details)


_TRANSACTION_KINDS = {
    "TRANS_STMT_BEGIN": "BEGIN",
    "TRANS_STMT_START": "BEGIN",
    "TRANS_STMT_COMMIT": "COMMIT",
    "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT",
    "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}


def _transaction(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    kind = _TRANSACTION_KINDS.get(body.get("kind", ""), "TRANSACTION")
    details = TransactionDetail()
    if body.get("chain"):
        details.chain = True
    if body.get("savepoint_name"):
        details.savepoint = body["savepoint_name"]
    transactional = kind not in ("COMMIT PREPARED", "ROLLBACK PREPARED")
    return _make(text, node, kind, None, details, transactional=transactional)


_DURATION_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)


_UNITS_MS = {"": 1, "us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def _duration_ms(value: Any) -> int | None:
    """PostgreSQL time GUC value → milliseconds ('2s' → 2000, 5000 → 5000)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    m = _DURATION_RE.match(str(value))
    if not m or m.group(2).lower() not in _UNITS_MS:
        return None
    return int(float(m.group(1)) * _UNITS_MS[m.group(2).lower()])


def _set(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    kind_code = body.get("kind", "")
    kind = "RESET" if kind_code.startswith("VAR_RESET") else "SET"
    name = body.get("name") or ("ALL" if kind_code == "VAR_RESET_ALL" else None)
    args = [_const(a) for a in body.get("args", ())]
    value: Any = args[0] if len(args) == 1 else (args or None)
    if kind_code == "VAR_SET_DEFAULT":
        value = "DEFAULT"
    details = SetDetail(name=name, value=value, local=bool(body.get("is_local")))
    if name and name.endswith("_timeout") and kind == "SET":
        details.value_ms = _duration_ms(value) if value != "DEFAULT" else None
    return _make(text, node, kind, None, details)


def _set_constraints(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    names = [_rv_name(c) for c in body.get("constraints", ())] or ["ALL"]
    details = SetConstraintsDetail(
        constraints=tuple(names), mode="DEFERRED" if body.get("deferred") else "IMMEDIATE"
    )
    return _make(text, node, "SET CONSTRAINTS", None, details)


def _grant(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    kind = "GRANT" if body.get("is_grant") else "REVOKE"
    return _make(text, node, kind, None, Detail())
