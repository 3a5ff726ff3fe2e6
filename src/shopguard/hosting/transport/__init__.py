"""Host transports: how hosting checks reach the server (local or SSH)."""

from shopguard.hosting.transport.interface import (
    ALLOWED_COMMANDS,
    CommandMissing,
    CommandNotAllowed,
    CommandResult,
    CommandTimeout,
    FileMissing,
    FileStat,
    HostKeyUnknown,
    HostTransport,
    HostUnreachable,
    PermissionDenied,
    TransportError,
    check_allowed,
)
from shopguard.hosting.transport.local import LocalTransport

__all__ = [
    "ALLOWED_COMMANDS",
    "CommandMissing",
    "CommandNotAllowed",
    "CommandResult",
    "CommandTimeout",
    "FileMissing",
    "FileStat",
    "HostKeyUnknown",
    "HostTransport",
    "HostUnreachable",
    "LocalTransport",
    "PermissionDenied",
    "TransportError",
    "check_allowed",
]
