"""Agents, teams, roles and authentication (passwords, sessions, TOTP, API tokens)."""
