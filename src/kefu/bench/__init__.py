"""Benchmarks behind `kefu bench ...`: each prints its figures as JSON on the last line."""
