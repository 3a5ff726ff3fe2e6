"""NimbusPay, the demo payment provider."""
