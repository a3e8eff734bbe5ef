"""Tickets (工单): submission, conversation, assignment, status, rating."""
