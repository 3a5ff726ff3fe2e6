"""scanning/web."""
