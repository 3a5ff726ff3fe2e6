"""insurance."""
