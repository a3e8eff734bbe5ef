"""Customers (traders) and how they are identified: email + password, or a signed UID."""
