"""Outbound notifications to customers and agents, always sent from the jobs table."""
