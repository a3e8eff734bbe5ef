"""Guard, sanitising, rate limits, audit and the official-channel registry."""
