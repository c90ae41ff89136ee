"""The shop's query patterns: the named queries its indexes are justified by.

dbgov reads ``QUERIES`` from ``<app>/dbgov_queries.py`` of every installed app (see
docs/explain.md). Migrations name them in ``dbgov_index_purpose``; rehearsals run
EXPLAIN ANALYZE on them before and after the migrations. The SQL uses only columns
that exist across the whole demo history (shop 0005 renames ``total``).
"""

from __future__ import annotations

from dbgov.explain.patterns import Query

QUERIES = [
    Query(
        name="user order history",
        description="A customer's latest orders (account page).",
        sql=(
            "SELECT id, status, created_at FROM shop_orders "
            "WHERE user_id = %(user_id)s ORDER BY created_at DESC LIMIT 20"
        ),
        params={"user_id": 42},
    ),
    Query(
        name="orders by status",
        description="The back-office queue: newest orders in a status.",
        sql=(
            "SELECT id, user_id, created_at FROM shop_orders "
            "WHERE status = %(status)s ORDER BY created_at DESC LIMIT 50"
        ),
        params={"status": "paid"},
    ),
]
