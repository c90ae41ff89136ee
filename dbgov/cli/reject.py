"""``manage.py dbgov reject``: like ``approve``, recording a rejection."""

from __future__ import annotations

from .approve import Subcommand as Approve


class Subcommand(Approve):
    help = "Reject findings by fingerprint (prefix) or all open ones of --task, as --as USER."
    decision = "rejected"
