"""Forms of procurement, one module per area (clauses, tenders, bids, contracts)."""
