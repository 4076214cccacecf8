"""Device inventory, surplus listings, claims, data-wipe certificates, transfers, WEEE routing (issue 3)."""
