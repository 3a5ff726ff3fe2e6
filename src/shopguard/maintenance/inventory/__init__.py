"""Inventory: what software a store runs, read from its files and its host."""
