"""Forms of the marketplace, one module per area."""
