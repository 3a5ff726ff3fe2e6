"""Start, stop and inspect the demo shop and its payment provider.

Command line (from the repository root)::

    python demo/run.py start  [--host 127.0.0.1] [--shop-port 18080] [--provider-port 18081]
    python demo/run.py status
    python demo/run.py stop
    python demo/run.py serve  [same flags]      # foreground, Ctrl-C to stop

``start`` runs ``serve`` in the background, records its pid and ports under demo/run/
(git-ignored), waits until both apps answer and prints the URLs.

From Python (pytest fixtures)::

    from demo.run import start
    handle = start(shop_port=0, provider_port=0)    # 0 = pick a free port
    handle.shop_url, handle.checkout_url, handle.provider_url
    handle.write_config(tmp_path / "shopguard.toml")  # config for this instance
    handle.stop()
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

if __package__ in (None, ""):  # run as a script: make `import demo` work
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.provider.app import ProviderServer
from demo.shop.app import WEB_ROOT, ShopServer, materialise_planted

DEMO_DIR = Path(__file__).resolve().parent
RUN_DIR = Path(os.environ.get("SHOPGUARD_DEMO_RUN_DIR") or DEMO_DIR / "run")
"""pid, state and log files of the background demo (override: SHOPGUARD_DEMO_RUN_DIR)."""
PID_FILE = RUN_DIR / "demo.pid"
STATE_FILE = RUN_DIR / "demo.json"
LOG_FILE = RUN_DIR / "demo.log"
CONFIG_TEMPLATE = DEMO_DIR / "shopguard.toml"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_SHOP_PORT = 18080
DEFAULT_PROVIDER_PORT = 18081
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


class DemoError(Exception):
    """The demo could not be started or stopped; the message says why."""


def check_host(host: str) -> str:
    """The demo is weak on purpose, so it only ever listens on IPv4 loopback."""
    if host == "localhost":
        return DEFAULT_HOST
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise DemoError(f"--host {host!r}: expected a loopback IPv4 address such as 127.0.0.1") from None
    if addr.version != 4 or not addr.is_loopback:
        raise DemoError(f"--host {host}: the deliberately weak demo listens only on 127.0.0.0/8")
    return host


@dataclass
class DemoHandle:
    """A running demo (both apps in threads of this process)."""

    host: str
    shop: ShopServer
    provider: ProviderServer
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopped: bool = False

    @property
    def shop_port(self) -> int:
        return int(self.shop.server_address[1])

    @property
    def provider_port(self) -> int:
        return int(self.provider.server_address[1])

    @property
    def shop_url(self) -> str:
        return f"http://{self.host}:{self.shop_port}/"

    @property
    def checkout_url(self) -> str:
        return self.shop_url + "checkout"

    @property
    def basket_url(self) -> str:
        return self.shop_url + "basket"

    @property
    def provider_url(self) -> str:
        return f"http://{self.host}:{self.provider_port}/"

    @property
    def web_root(self) -> Path:
        return self.shop.web_root

    def write_config(self, path: Path) -> Path:
        """Write a shopguard.toml for this instance (its ports, absolute web root)."""
        path.write_text(config_text(self.shop_url, self.web_root), encoding="utf-8")
        return path

    def stop(self) -> None:
        """Stop both apps and free their ports. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        for server in (self.shop, self.provider):
            server.shutdown()
            server.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> DemoHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def config_text(shop_url: str, web_root: Path = WEB_ROOT) -> str:
    """demo/shopguard.toml with the storefront origin and web root of a given instance."""
    origin = shop_url.rstrip("/")
    text = CONFIG_TEMPLATE.read_text(encoding="utf-8")
    text = text.replace(f"http://{DEFAULT_HOST}:{DEFAULT_SHOP_PORT}", origin)
    return text.replace('web_roots = ["shop/static"]', f"web_roots = [{json.dumps(str(web_root))}]")


def start(
    shop_port: int = 0, provider_port: int = 0, host: str = DEFAULT_HOST, *, log_requests: bool = False
) -> DemoHandle:
    """Start the shop and the payment provider in background threads of this process.

    Port 0 picks a free port; read the real ones from the handle. Raises OSError when a
    port is taken.
    """
    host = check_host(host)
    materialise_planted()
    provider = ProviderServer((host, provider_port))
    try:
        shop = ShopServer((host, shop_port), provider.origin)
    except BaseException:
        provider.server_close()
        raise
    provider.shop_origin = shop.origin
    shop.quiet = provider.quiet = not log_requests
    handle = DemoHandle(host=host, shop=shop, provider=provider)
    for name, server in (("demo-shop", shop), ("demo-provider", provider)):
        t = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
        )
        t.start()
        handle._threads.append(t)
    return handle


# -- background process management -------------------------------------------------
def _answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback http only
            return 200 <= resp.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


def _is_our_process(pid: int) -> bool:
    """True when pid is alive and is a `run.py serve` (guards against pid reuse)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True  # no /proc (not Linux): trust the pid
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return any(a.endswith(b"run.py") for a in args) and b"serve" in args


def _read_state() -> tuple[int, dict[str, object]] | None:
    try:
        pid = int(PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        state = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        state = {}
    return pid, state if isinstance(state, dict) else {}


def _clear_state() -> None:
    for f in (PID_FILE, STATE_FILE):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()


def running() -> tuple[int, dict[str, object]] | None:
    """The background demo's pid and state, or None (a stale pid file is removed)."""
    got = _read_state()
    if got is None:
        _clear_state()
        return None
    if not _is_our_process(got[0]):
        _clear_state()
        return None
    return got


def _urls(state: dict[str, object]) -> tuple[str, str]:
    host = state.get("host", DEFAULT_HOST)
    return (
        f"http://{host}:{state.get('shop_port', DEFAULT_SHOP_PORT)}/",
        f"http://{host}:{state.get('provider_port', DEFAULT_PROVIDER_PORT)}/",
    )


def _print_urls(shop: str, provider: str) -> None:
    print(f"  shop:             {shop}")
    print(f"  checkout:         {shop}checkout")
    print(f"  payment provider: {provider}")


def start_background(host: str, shop_port: int, provider_port: int) -> int:
    host = check_host(host)
    current = running()
    if current is not None:
        shop, provider = _urls(current[1])
        print(f"demo shop already running (pid {current[0]})")
        _print_urls(shop, provider)
        return 0
    if shop_port == 0 or provider_port == 0:
        raise DemoError("start needs fixed ports (port 0 is only for demo.run.start() in tests)")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        str(DEMO_DIR / "run.py"),
        "serve",
        "--host",
        host,
        "--shop-port",
        str(shop_port),
        "--provider-port",
        str(provider_port),
    ]
    with LOG_FILE.open("ab") as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    PID_FILE.write_text(f"{proc.pid}\n")
    state = {"host": host, "shop_port": shop_port, "provider_port": provider_port}
    STATE_FILE.write_text(json.dumps(state) + "\n")
    shop, provider = _urls(state)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _clear_state()
            tail = LOG_FILE.read_text(errors="replace").splitlines()[-5:]
            raise DemoError("the demo exited while starting:\n  " + "\n  ".join(tail))
        if _answers(shop) and _answers(provider):
            print(f"demo shop started (pid {proc.pid}); log: {LOG_FILE}")
            _print_urls(shop, provider)
            return 0
        time.sleep(0.1)
    _terminate(proc.pid)
    _clear_state()
    raise DemoError(f"the demo did not answer within {START_TIMEOUT_S:.0f} s; see {LOG_FILE}")


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _is_our_process(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop_background() -> int:
    current = running()
    if current is None:
        print("demo shop is not running")
        return 0
    _terminate(current[0])
    _clear_state()
    print(f"demo shop stopped (pid {current[0]})")
    return 0


def status() -> int:
    current = running()
    if current is None:
        print("demo shop is not running")
        return 3
    shop, provider = _urls(current[1])
    ok = _answers(shop) and _answers(provider)
    print(f"demo shop running (pid {current[0]}){'' if ok else ', but not answering'}")
    _print_urls(shop, provider)
    return 0 if ok else 1


def serve(host: str, shop_port: int, provider_port: int, log_requests: bool) -> int:
    handle = start(shop_port, provider_port, host, log_requests=log_requests)
    done = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(f"serving the demo shop at {handle.shop_url} and the provider at {handle.provider_url}", flush=True)
    while not done.wait(0.5):
        pass
    handle.stop()
    print("demo shop stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo/run.py", description="Run ShopGuard's demo shop.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("start", "start in the background"), ("serve", "run in the foreground")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", default=DEFAULT_HOST, help="loopback address to listen on")
        p.add_argument("--shop-port", type=int, default=DEFAULT_SHOP_PORT)
        p.add_argument("--provider-port", type=int, default=DEFAULT_PROVIDER_PORT)
        if name == "serve":
            p.add_argument("--log-requests", action="store_true", help="print one line per request")
    sub.add_parser("stop", help="stop the background demo")
    sub.add_parser("status", help="is the background demo running? (exit 0 yes, 3 no)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            return start_background(args.host, args.shop_port, args.provider_port)
        if args.command == "serve":
            return serve(args.host, args.shop_port, args.provider_port, args.log_requests)
        if args.command == "stop":
            return stop_background()
        return status()
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot start the demo: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
