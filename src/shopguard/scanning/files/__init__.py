"""scanning/files."""
