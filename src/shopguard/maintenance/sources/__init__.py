"""Vulnerability sources: one module per source behind :mod:`.interface`."""
