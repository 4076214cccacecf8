"""Clause library, tenders, bids, scoring, contracts, indicators and open-data exports (issues 5 and 6)."""
