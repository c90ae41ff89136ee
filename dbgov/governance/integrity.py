"""Signatures and hash chains of the append-only tables, and their verification.

A row's digest is HMAC-SHA256, under a key from ``DBGOV["SIGNING_KEYS"]`` (the first
signs, every key verifies: rotation), over the canonical JSON of its signed fields,
its id, its ``seq`` and the digest of the row before it. The key never enters the
database, so a role that can INSERT, UPDATE, DELETE or TRUNCATE dbgov's tables —
the migrator owns them, a superuser can do anything — still cannot write a row that
verifies. ``verify()`` walks every chain and names each row that breaks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.utils.crypto import salted_hmac

from dbgov.conf import dbgov_settings
from dbgov.models import Approval, AuditEvent, ChainedModel, ChainHead, Ledger

__all__ = [
    "CHAINED_MODELS",
    "acknowledge",
    "check",
    "check_witness",
    "RULE_INTEGRITY",
    "Violation",
    "chain_rows",
    "signing_keys",
    "verify",
    "witness",
]

RULE_INTEGRITY = "integrity-violation"
GENESIS = "0" * 64
CHAINED_MODELS: tuple[type[ChainedModel], ...] = (Approval, AuditEvent, Ledger)
_SALT = "dbgov.governance.integrity"


# --------------------------------------------------------------------------- keys


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"dbgov-key-id:" + key).hexdigest()[:12]


def signing_keys() -> list[tuple[str, bytes]]:
    """(key id, key) pairs; the first signs. Default: one key derived from SECRET_KEY."""
    configured = dbgov_settings.SIGNING_KEYS
    if configured:
        keys = [k.encode() if isinstance(k, str) else bytes(k) for k in configured]
    else:
        if not settings.SECRET_KEY:
            raise ImproperlyConfigured("dbgov signs governance rows: set SECRET_KEY")
        keys = [salted_hmac(_SALT, "signing-key", algorithm="sha256").digest()]
    return [(_key_id(k), k) for k in keys]


def _mac(key: bytes, doc: dict[str, Any]) -> str:
    payload = json.dumps(doc, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    return v


def _signed_doc(model: type[ChainedModel], values: dict[str, Any]) -> dict[str, Any]:
    return {
        "table": model._meta.db_table,
        "id": values["id"],
        "seq": values["seq"],
        "prev": values["prev_digest"],
        "fields": {name: _value(values[name]) for name in model.SIGNED_FIELDS},
    }


def _head_doc(table: str, seq: int, digest: str) -> dict[str, Any]:
    return {"head": table, "seq": seq, "digest": digest}


# --------------------------------------------------------------------------- appending


def _lock_head(table: str, using: str) -> ChainHead:
    """The table's chain head, locked until the transaction ends (appends serialise)."""
    head = ChainHead.objects.using(using).select_for_update().filter(table=table).first()
    if head is not None:
        return head
    with connections[using].cursor() as cursor:  # first append (or after a flush)
        cursor.execute(
            'INSERT INTO dbgov_chainhead ("table", seq, digest, key_id, signature, updated_at)'
            " VALUES (%s, 0, %s, '', '', now()) ON CONFLICT (\"table\") DO NOTHING",
            [table, GENESIS],
        )
    return ChainHead.objects.using(using).select_for_update().get(table=table)


def _normalise_json(model: type[ChainedModel], obj: ChainedModel) -> None:
    """JSON fields hold what jsonb gives back, so the signed value round-trips."""
    for f in model._meta.concrete_fields:
        if f.get_internal_type() == "JSONField":
            value = getattr(obj, f.attname)
            setattr(obj, f.attname, json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def chain_rows(
    model: type[ChainedModel], objs: Sequence[ChainedModel], *, using: str, keep_ids: bool = False
) -> None:
    """Give new rows their id, seq, prev_digest, digest and key_id, and advance the head.

    Call inside the transaction that inserts them: the head stays locked until it
    commits, so concurrent appends wait and the chain never forks.
    """
    if not objs:
        return
    table = model._meta.db_table
    key_id, key = signing_keys()[0]
    head = _lock_head(table, using)
    if keep_ids:
        ids = [obj.pk for obj in objs]
    else:  # the id is signed, so it is taken from the sequence before the INSERT
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(objs)],
            )
            ids = [row[0] for row in cursor.fetchall()]
    seq, prev = head.seq, head.digest or GENESIS
    for obj, pk in zip(objs, ids, strict=True):
        _normalise_json(model, obj)
        obj.pk = pk
        seq += 1
        obj.seq, obj.prev_digest, obj.key_id = seq, prev, key_id
        values = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
        obj.digest = _mac(key, _signed_doc(model, values))
        prev = obj.digest
    ChainHead.objects.using(using).filter(pk=head.pk).update(
        seq=seq, digest=prev, key_id=key_id, signature=_mac(key, _head_doc(table, seq, prev))
    )


# --------------------------------------------------------------------------- verifying


def signature_ok(obj: ChainedModel, keys: dict[str, bytes] | None = None) -> bool:
    """Whether one row's digest matches its content (its place in the chain aside)."""
    keys = keys if keys is not None else dict(signing_keys())
    key = keys.get(obj.key_id)
    if key is None or obj.seq is None:
        return False
    model = type(obj)
    values = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
    return hmac.compare_digest(_mac(key, _signed_doc(model, values)), obj.digest)


@dataclass(frozen=True)
class Violation:
    """One break of a chain, named so that a human can find the row."""

    table: str
    kind: str  # unsigned | forged | unknown-key | missing | out-of-order | head
    message: str
    row_id: int | None = None
    seq: int | None = None

    @property
    def key(self) -> str:
        """Stable identity, so that an acknowledged incident stays acknowledged."""
        return f"{self.table}:{self.kind}:{self.seq if self.seq is not None else self.row_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": RULE_INTEGRITY,
            "table": self.table,
            "kind": self.kind,
            "row_id": self.row_id,
            "seq": self.seq,
            "message": self.message,
            "key": self.key,
        }


def _rows(model: type[ChainedModel], using: str) -> Iterator[dict[str, Any]]:
    names = ["id", "seq", "prev_digest", "digest", "key_id", *model.SIGNED_FIELDS]
    qs = model._default_manager.using(using).order_by("seq", "id").values(*names)
    yield from qs.iterator(chunk_size=5000)


def verify_table(
    model: type[ChainedModel], *, using: str = "default", keys: dict[str, bytes] | None = None
) -> list[Violation]:
    """Every break of one table's chain (empty: the chain holds)."""
    keys = keys if keys is not None else dict(signing_keys())
    table = model._meta.db_table
    out: list[Violation] = []
    expected, prev_digest, last_id = 1, GENESIS, None
    for row in _rows(model, using):
        rid, seq = row["id"], row["seq"]
        where = f"{table} row id {rid}"
        if seq is None:
            out.append(
                Violation(
                    table, "unsigned", f"{where} is not in the chain: inserted outside dbgov", rid
                )
            )
            continue
        if seq < expected:
            out.append(
                Violation(table, "out-of-order", f"{where} repeats seq {seq}: forged", rid, seq)
            )
            continue
        if seq > expected:
            after = f"after row id {last_id}" if last_id is not None else "at the start"
            out.append(
                Violation(
                    table,
                    "missing",
                    f"{table}: rows seq {expected}..{seq - 1} are missing {after} "
                    f"(deleted; the chain resumes at row id {rid})",
                    rid,
                    expected,
                )
            )
        elif row["prev_digest"] != prev_digest:
            out.append(
                Violation(
                    table,
                    "out-of-order",
                    f"{where} (seq {seq}) does not follow the row before it: reordered or forged",
                    rid,
                    seq,
                )
            )
        key = keys.get(row["key_id"])
        if key is None:
            out.append(
                Violation(
                    table,
                    "unknown-key",
                    f"{where} is signed with unknown key {row['key_id']!r}",
                    rid,
                    seq,
                )
            )
        elif not hmac.compare_digest(_mac(key, _signed_doc(model, row)), row["digest"]):
            out.append(
                Violation(
                    table,
                    "forged",
                    f"{where} (seq {seq}): signature does not match its content: edited or forged",
                    rid,
                    seq,
                )
            )
        expected, prev_digest, last_id = seq + 1, row["digest"], rid
    out += _verify_head(table, expected - 1, prev_digest, last_id, keys, using)
    return out


def _verify_head(
    table: str,
    last_seq: int,
    last_digest: str,
    last_id: int | None,
    keys: dict[str, bytes],
    using: str,
) -> list[Violation]:
    head = ChainHead.objects.using(using).filter(table=table).first()
    if head is None:
        if last_seq == 0:
            return []  # nothing appended yet (fresh install, or flushed)
        return [
            Violation(table, "head", f"{table}: the chain head is missing (deleted or truncated)")
        ]
    key = keys.get(head.key_id)
    if head.seq and (
        key is None
        or not hmac.compare_digest(
            _mac(key, _head_doc(table, head.seq, head.digest)), head.signature
        )
    ):
        return [
            Violation(table, "head", f"{table}: the chain head's signature does not verify: forged")
        ]
    if head.seq > last_seq:
        return [
            Violation(
                table,
                "missing",
                f"{table}: the chain head is at seq {head.seq} but the last row is seq {last_seq}"
                f"{f' (row id {last_id})' if last_id else ''}: rows were deleted or the table truncated",
                seq=last_seq + 1,
            )
        ]
    if head.seq < last_seq:
        return [
            Violation(
                table,
                "head",
                f"{table}: rows after the chain head (seq {head.seq}..{last_seq}) were appended "
                "outside dbgov",
                last_id,
                head.seq + 1,
            )
        ]
    if head.seq and head.digest != last_digest:
        return [
            Violation(
                table, "head", f"{table}: the last row is not the one the head signed", last_id
            )
        ]
    return []


def verify(
    *, using: str = "default", models: Iterable[type[ChainedModel]] = CHAINED_MODELS
) -> list[Violation]:
    """Every break of every chain."""
    keys = dict(signing_keys())
    out: list[Violation] = []
    for model in models:
        out += verify_table(model, using=using, keys=keys)
    return out


def witness(using: str = "default") -> dict[str, dict[str, Any]]:
    """The chain heads, to keep outside the database (``dbgov verify --export-witness``)."""
    return {
        h.table: {"seq": h.seq, "digest": h.digest}
        for h in ChainHead.objects.using(using).order_by("table")
    }


def check_witness(witnessed: dict[str, Any], using: str = "default") -> list[Violation]:
    """A chain must still hold the row a witness saw, with the same digest: a rewrite of
    the whole chain and its head (or a restore of an older database) shows here."""
    out: list[Violation] = []
    by_table = {m._meta.db_table: m for m in CHAINED_MODELS}
    for table, seen in sorted(witnessed.items()):
        model = by_table.get(table)
        if model is None or not isinstance(seen, dict):
            continue
        seq, digest = int(seen.get("seq") or 0), str(seen.get("digest") or "")
        if seq == 0:
            continue
        row = model._default_manager.using(using).filter(seq=seq).values("pk", "digest").first()
        if row is None:
            out.append(
                Violation(
                    table,
                    "witness",
                    f"{table}: the witness saw seq {seq}, which the table no longer holds: "
                    "rows were deleted or the chain rewritten",
                    seq=seq,
                )
            )
        elif row["digest"] != digest:
            out.append(
                Violation(
                    table,
                    "witness",
                    f"{table} row id {row['pk']} (seq {seq}) differs from what the witness saw: "
                    "the chain was rewritten",
                    row["pk"],
                    seq,
                )
            )
    return out


# --------------------------------------------------------------------------- incidents

ACKNOWLEDGE_ACTION = "integrity.acknowledged"


def acknowledged_keys(using: str = "default") -> set[str]:
    """Violation keys acknowledged by signed audit events (a forged one counts for nothing)."""
    keys = dict(signing_keys())
    out: set[str] = set()
    for event in AuditEvent.objects.using(using).filter(action=ACKNOWLEDGE_ACTION):
        if signature_ok(event, keys):
            out.update(str(k) for k in (event.data or {}).get("violations", []))
    return out


def check(
    *, using: str = "default", witness: dict[str, Any] | None = None
) -> tuple[list[Violation], list[Violation]]:
    """(open violations, acknowledged violations) of every chain, and of the witness."""
    found = verify(using=using)
    if witness:
        found += check_witness(witness, using=using)
    if not found:
        return [], []
    known = acknowledged_keys(using)
    return [v for v in found if v.key not in known], [v for v in found if v.key in known]


def acknowledge(
    violations: Sequence[Violation], *, reason: str, actor: Any = None, using: str = "default"
) -> AuditEvent:
    """Record that these violations are a known incident: audited, signed, chained."""
    from .audit import audit

    return audit(
        ACKNOWLEDGE_ACTION,
        actor=actor,
        subject=f"{len(violations)} integrity violation(s)",
        reason=reason,
        data={
            "violations": [v.key for v in violations],
            "messages": [v.message for v in violations],
        },
    )
