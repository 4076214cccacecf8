"""Payments: administrative mandate (recorded by the buyer's finance) and card through Stripe Checkout.
Filled by the payment work; `refund_if_paid` is what order cancellation calls."""
from __future__ import annotations

from marketplace.models import Order


def refund_if_paid(order: Order) -> None:
    """Placeholder until card payments exist: nothing was paid by card, nothing to refund."""
