"""The marketplace's operations, one module per area: catalogue, campaigns (group orders), orders,
payments. Services check permission and rule, change, record; they never commit."""
