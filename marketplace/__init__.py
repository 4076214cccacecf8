"""The reconditioned catalogue, group orders, orders and payments (issue 4)."""
