"""Governance: stored plans, approvals, gates, audit log and the migration ledger."""
