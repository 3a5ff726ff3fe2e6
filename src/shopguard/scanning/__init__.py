"""scanning."""
