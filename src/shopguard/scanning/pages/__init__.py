"""scanning/pages."""
