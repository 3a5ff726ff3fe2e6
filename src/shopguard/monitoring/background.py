"""The monitoring daemon in a thread of another process (``shopguard serve``).

The daemon is an asyncio program; here it gets its own event loop in a thread, so the web
server's loop and the daemon's never wait on each other. ``stop`` asks it to finish the
way Ctrl-C does for ``shopguard monitor`` (running checks cancelled, queued results and
alerts written) and waits for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from shopguard.monitoring.engine import Daemon

log = logging.getLogger(__name__)


class DaemonThread:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="shopguard-monitor", daemon=True)

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.daemon.run(self._stop, lambda _d: self._ready.set())

        try:
            asyncio.run(run())
        except BaseException as exc:  # reported by start()/stop(); the web server keeps serving
            self.error = exc
            log.error("the monitoring daemon stopped: %s", exc)
        finally:
            self._ready.set()

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until the monitors are scheduled; raises what stopped it early."""
        self._thread.start()
        self._ready.wait(timeout)
        if self.error is not None:
            raise self.error

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the daemon to finish and wait; False if it did not within ``timeout``."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)
        return not self._thread.is_alive()
