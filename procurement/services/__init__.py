"""Procurement operations: every state change of clauses, tenders, bids, evaluations and contracts."""
