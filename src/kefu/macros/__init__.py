"""Canned responses (macros): one store for tickets and, later, chat."""
