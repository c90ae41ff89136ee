"""Personal data in seeds: which fields hold it, what looks real, and fake values.

A field holds personal data (PII) when its ``db_comment`` starts with ``PII``
(the convention of DESIGN.md), when it is an ``EmailField``, or when
``DBGOV["PII_FIELDS"]`` lists it as ``"app_label.Model.field"``.

Outside production, seed values of such fields must not look real: an email address
must be on a reserved domain (RFC 2606 / RFC 6761: example.com/.net/.org, .example,
.test, .invalid, .localhost) and a phone number must be in a range reserved for
fiction (NANP 555-0100…0199, Ofcom's drama ranges, ACMA's 0491 570…579, 5550 xxxx).
Names and free text cannot be told apart from real ones; they are only scanned for
embedded email addresses and phone numbers.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db import models
from faker import Faker

from dbgov.conf import dbgov_settings

__all__ = ["fake_value", "is_pii_field", "looks_real", "pii_fields"]

RESERVED_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# A run of at least 7 digits, optionally with a leading + and the usual separators.
PHONE_RE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")

# Ranges reserved for fiction, as digit strings with the national/international prefix.
FICTIONAL_PHONE_RES = [
    re.compile(p)
    for p in (
        r"^(1)?\d{3}55501\d\d$",  # NANP 555-0100 … 555-0199
        r"^(44|0)7700900\d{3}$",  # UK mobile drama range 07700 900000 … 900999
        r"^(44|0)1632960\d{3}$",  # UK 01632 960000 … 960999
        r"^(44|0)2079460\d{3}$",  # London 020 7946 0000 … 0999
        r"^(44|0)1(1[3-8]|[2-6]1)4960\d{3}$",  # UK 0113…0118 / 0121…0161 496 0xxx
        r"^(44|0)1914980\d{3}$",  # UK 0191 498 0xxx
        r"^(44|0)8081570\d{3}$",  # UK freephone 0808 157 0000 … 0999
        r"^(44|0)9098790\d{3}$",  # UK premium 0909 879 0000 … 0999
        r"^(44|0)3069990\d{3}$",  # UK 03069 990000 … 990999
        r"^(61|0)49157\d{4}$",  # Australia mobile 0491 570 … 579
        r"^(61|0)[2378]5550\d{4}$",  # Australia 0x 5550 xxxx
    )
]


def _configured() -> set[tuple[str, str]]:
    out = set()
    for entry in dbgov_settings.PII_FIELDS:
        label, _, field = str(entry).rpartition(".")
        out.add((label.lower(), field))
    return out


def is_pii_field(
    field: models.Field[Any, Any], configured: set[tuple[str, str]] | None = None
) -> bool:
    comment = getattr(field, "db_comment", None) or ""
    if comment.strip().upper().startswith("PII"):
        return True
    if isinstance(field, models.EmailField):
        return True
    configured = _configured() if configured is None else configured
    model = field.model
    return (model._meta.label_lower, field.name) in configured


def pii_fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    """The model's concrete fields that hold personal data, by field name."""
    configured = _configured()
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if is_pii_field(f, configured)  # type: ignore[arg-type]
    }


def _reserved_domain(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    if domain in RESERVED_EMAIL_DOMAINS or any(
        domain.endswith("." + d) for d in RESERVED_EMAIL_DOMAINS
    ):
        return True
    return domain.rsplit(".", 1)[-1] in RESERVED_TLDS


def _fictional_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return any(r.match(digits) for r in FICTIONAL_PHONE_RES)


def looks_real(field: models.Field[Any, Any], value: Any) -> str | None:
    """Why ``value`` of PII ``field`` looks like real personal data, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    name = field.name.lower()
    if isinstance(field, models.EmailField) or "email" in name:
        m = EMAIL_RE.fullmatch(value.strip())
        if m is None:
            return None if "@" not in value else f"{value!r} is not an example email address"
        if not _reserved_domain(m.group(1)):
            return (
                f"{value!r} looks like a real email address "
                "(use a reserved domain: example.com, .test, .invalid, .example)"
            )
        return None
    if "phone" in name or "mobile" in name or name in {"tel", "fax"}:
        if sum(c.isdigit() for c in value) >= 7 and not _fictional_phone(value):
            return (
                f"{value!r} looks like a real phone number "
                "(use a fictional range such as +1-202-555-01xx or 07700 900xxx)"
            )
        return None
    for m in EMAIL_RE.finditer(value):
        if not _reserved_domain(m.group(1)):
            return f"{value!r} contains a real-looking email address {m.group(0)!r}"
    for m in PHONE_RE.finditer(value):
        candidate = m.group(0)
        if sum(c.isdigit() for c in candidate) >= 7 and not _fictional_phone(candidate):
            return f"{value!r} contains a real-looking phone number {candidate.strip()!r}"
    return None


def stable_seed(*parts: Any) -> int:
    """A 64-bit seed derived from ``parts`` (stable across processes, unlike hash())."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def fake_value(field: models.Field[Any, Any], faker: Faker) -> Any:
    """A generated, obviously fictional value for PII ``field``."""
    name = field.name.lower()
    value: Any
    if isinstance(field, models.EmailField) or "email" in name:
        value = f"{faker.user_name()}@example.com"
    elif "first_name" in name:
        value = faker.first_name()
    elif "last_name" in name:
        value = faker.last_name()
    elif "phone" in name or "mobile" in name:
        value = f"+1-{faker.random_int(201, 989)}-555-01{faker.random_int(0, 99):02d}"
    elif "address" in name:
        value = faker.address().replace("\n", ", ")
    elif "city" in name:
        value = faker.city()
    elif name == "ip" or name.endswith("_ip"):
        value = faker.ipv4_private()
    elif isinstance(field, models.DateField):
        value = faker.date_of_birth(minimum_age=18, maximum_age=90)
    elif "name" in name:
        value = faker.name()
    else:
        value = faker.sentence(nb_words=4)
    max_length = getattr(field, "max_length", None)
    if isinstance(value, str) and max_length:
        value = value[:max_length]
    return value
