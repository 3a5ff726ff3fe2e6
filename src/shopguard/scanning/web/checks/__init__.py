"""Outside-in web checks (imported automatically by the check registry)."""
