"""The local vulnerability database: import (sync), storage, and batch lookup."""
