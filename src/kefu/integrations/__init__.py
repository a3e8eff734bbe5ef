"""Connections to the exchange's own systems (account backend adapter, webhooks)."""
