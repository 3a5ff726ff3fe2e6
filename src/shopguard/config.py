"""``shopguard.toml`` -> validated pydantic models.

Every model forbids unknown keys: a typo in a security tool's config must be an
error, never a silently ignored setting. Load errors are turned into
:class:`ConfigError` whose message names the file, the field path
(``stores[0].checkout_url``), what was found and what was expected.
"""

from __future__ import annotations

import os
import stat
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from shopguard.cluster.settings import ClusterSettings
from shopguard.findings import Severity
from shopguard.hosting.settings import HostingSettings
from shopguard.insurance.settings import InsuranceSettings
from shopguard.maintenance.settings import MaintenanceSettings
from shopguard.monitoring.settings import MonitoringSettings
from shopguard.paths import user_config_dir
from shopguard.policies.settings import PoliciesSettings
from shopguard.response.settings import ResponseSettings
from shopguard.scanning.files.settings import FileScan
from shopguard.scanning.pages.settings import PageMonitor

CONFIG_FILENAME = "shopguard.toml"


class ConfigError(Exception):
    """A configuration problem a person must fix; the CLI exits with code 2."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Platform(StrEnum):
    WORDPRESS = "wordpress"
    WOOCOMMERCE = "woocommerce"
    MAGENTO = "magento"
    PRESTASHOP = "prestashop"
    OPENCART = "opencart"
    SHOPWARE = "shopware"
    DJANGO_OSCAR = "django-oscar"
    CUSTOM = "custom"


class PaymentIntegration(StrEnum):
    """How card data reaches the payment processor (drives the SAQ choice)."""

    REDIRECT = "redirect"
    IFRAME = "iframe"
    DIRECT_POST = "direct-post"
    API = "api"


class SecretRef(_Model):
    """Where a secret comes from. Inline values need ``allow_inline_secrets``."""

    env: str | None = None
    file: Path | None = None
    value: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [n for n in ("env", "file", "value") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of env, file or value")
        return self

    def resolve(self) -> str:
        """Read the secret now. Raises ConfigError naming where it looked."""
        if self.env is not None:
            val = os.environ.get(self.env)
            if val is None:
                raise ConfigError(f"secret: environment variable {self.env} is not set")
            return val
        if self.file is not None:
            try:
                st = self.file.stat()
                if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                    raise ConfigError(
                        f"secret file {self.file} is readable by other users "
                        f"(mode {stat.S_IMODE(st.st_mode):o}); run: chmod 600 {self.file}"
                    )
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"secret file {self.file}: {exc.strerror}") from exc
        assert self.value is not None
        return self.value

    def __repr__(self) -> str:  # never print a secret value
        where = f"env={self.env!r}" if self.env else f"file={str(self.file)!r}" if self.file else "value=***"
        return f"SecretRef({where})"


class Database(_Model):
    """A database the store uses. The DSN carries no password by default."""

    name: str = "main"
    dsn: str
    password: SecretRef | None = None

    @field_validator("dsn")
    @classmethod
    def _dsn_shape(cls, v: str) -> str:
        parts = urlsplit(v)
        if not parts.scheme or not (parts.hostname or parts.path):
            raise ValueError("expected a URL such as mysql://shop@127.0.0.1:3306/shop")
        return v

    @property
    def has_inline_password(self) -> bool:
        return bool(urlsplit(self.dsn).password)


class Contact(_Model):
    name: str = ""
    email: str = ""
    phone: str = ""
    organisation: str = ""
    notes: str = ""


class Contacts(_Model):
    security_lead: Contact | None = None
    hosting_provider: Contact | None = None
    payment_processor: Contact | None = None
    insurer: Contact | None = None
    lawyer: Contact | None = None
    forensic_investigator: Contact | None = None


class Company(_Model):
    name: str = ""
    legal_name: str = ""
    address: str = ""
    country: str = ""
    website: str = ""
    timezone: str = "UTC"
    employees: int | None = None


class AlertChannel(_Model):
    """An apprise URL (``mailto://``, ``slack://``, ``json://`` ...) kept as a secret."""

    name: str
    url: SecretRef
    min_severity: Severity = Severity.HIGH


class WebScan(_Model):
    """Limits and scope of the outside-in web scan."""

    extra_hosts: tuple[str, ...] = ()
    """Hosts besides the storefront and checkout that the scan may touch."""
    allow_private_addresses: bool = False
    """Allow targets that resolve to private or loopback addresses. Off by default
    (no SSRF through a redirect); turned on automatically when the configured
    storefront itself is on loopback."""
    request_budget: Annotated[int, Field(ge=1, le=100_000)] = 600
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    delay_ms: Annotated[int, Field(ge=0, le=60_000)] = 0
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    max_body_bytes: Annotated[int, Field(ge=1024)] = 5 * 1024 * 1024
    deadline_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    """Wall-clock limit for all of one store's web requests together."""
    http_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Where plain HTTP listens when the store is on HTTPS (default 80)."""
    https_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Where HTTPS listens when the store's URL is http:// (default 443)."""
    ca_bundle: Path | None = None
    """Extra CA certificates (PEM) to trust besides the system's, e.g. a company CA."""


class Store(_Model):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    storefront_url: AnyHttpUrl
    checkout_url: AnyHttpUrl | None = None
    basket_url: AnyHttpUrl | None = None
    web_roots: tuple[Path, ...] = ()
    host: str = "local"
    """``local`` or ``ssh://user@host:port``."""
    ssh_key: Path | None = None
    known_hosts: Path | None = None
    databases: tuple[Database, ...] = ()
    platform: Platform = Platform.CUSTOM
    payment_integration: PaymentIntegration | None = None
    jurisdictions: tuple[str, ...] = ()
    """Where customers live: ISO codes such as ``EU``, ``GB``, ``US-CA``, ``CA``, ``AU``."""
    timezone: str | None = None
    web: WebScan = WebScan()
    pages: PageMonitor = PageMonitor()
    hosting: HostingSettings = HostingSettings()
    maintenance: MaintenanceSettings = MaintenanceSettings()
    files: FileScan = FileScan()
    monitors: MonitoringSettings = MonitoringSettings()

    @field_validator("host")
    @classmethod
    def _host_shape(cls, v: str) -> str:
        if v == "local":
            return v
        parts = urlsplit(v)
        if parts.scheme != "ssh" or not parts.hostname or not parts.username:
            raise ValueError("expected 'local' or ssh://user@host:port")
        return v

    @field_validator("web_roots")
    @classmethod
    def _roots_absolute(cls, v: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(p.expanduser() for p in v)

    @property
    def is_local_host(self) -> bool:
        return self.host == "local"


class FindingsSettings(_Model):
    """The ``[findings]`` section: how long an accepted risk holds before it counts again."""

    accept_risk_default_days: int = Field(default=90, ge=1, le=3650)
    """Expiry offered when someone accepts a risk without choosing a date."""
    accept_risk_max_days: int = Field(default=365, ge=1, le=3650)
    """The latest expiry allowed; PCI DSS asks for risk decisions to be reviewed at least yearly."""

    @model_validator(mode="after")
    def _default_within_max(self) -> FindingsSettings:
        if self.accept_risk_default_days > self.accept_risk_max_days:
            raise ValueError(
                f"findings.accept_risk_default_days ({self.accept_risk_default_days}) is more than "
                f"findings.accept_risk_max_days ({self.accept_risk_max_days})"
            )
        return self


class StorageSettings(_Model):
    """How long ShopGuard keeps its history (``[storage]``)."""

    keep_runs_days: Annotated[float, Field(gt=0, le=100 * 365)] | None = None
    """Runs older than this are pruned by ``shopguard scheduler`` and ``shopguard monitor``
    (and on demand by ``shopguard runs prune``); open and triaged findings always stay.
    None (default): keep every run."""
    prune_batch_size: Annotated[int, Field(ge=1, le=100_000)] = 500
    """Runs (or findings) deleted per transaction."""
    prune_every_hours: Annotated[float, Field(gt=0, le=24 * 31)] = 6.0
    """How often the scheduler prunes."""


class Config(_Model):
    company: Company = Company()
    contacts: Contacts = Contacts()
    alerts: tuple[AlertChannel, ...] = ()
    stores: tuple[Store, ...] = ()
    policies: PoliciesSettings = PoliciesSettings()
    insurance: InsuranceSettings = InsuranceSettings()
    allow_inline_secrets: bool = False
    database_url: str | None = None
    """Where ShopGuard keeps its own data; default: a SQLite file per user."""
    response: ResponseSettings = ResponseSettings()
    findings: FindingsSettings = FindingsSettings()
    """Triage rules: accepted risks expire (default and maximum in days)."""
    storage: StorageSettings = StorageSettings()
    cluster: ClusterSettings | None = None
    """Celery workers + PostgreSQL; None (default): everything runs in-process."""

    @model_validator(mode="after")
    def _checks(self) -> Config:
        names = [s.name for s in self.stores]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"store names must be unique; repeated: {', '.join(dupes)}")
        if not self.allow_inline_secrets:
            for i, store in enumerate(self.stores):
                for j, db in enumerate(store.databases):
                    if db.has_inline_password:
                        raise ValueError(
                            f"stores[{i}].databases[{j}].dsn holds a password; move it to "
                            'password = {env = "VAR"} or a secrets file, or set allow_inline_secrets = true'
                        )
                    if db.password is not None and db.password.value is not None:
                        raise ValueError(
                            f"stores[{i}].databases[{j}].password is inline; use env or file, "
                            "or set allow_inline_secrets = true"
                        )
            for k, ch in enumerate(self.alerts):
                if ch.url.value is not None:
                    raise ValueError(
                        f"alerts[{k}].url is inline and may hold a token; use env or file, "
                        "or set allow_inline_secrets = true"
                    )
        return self

    def store(self, name: str | None) -> list[Store]:
        """The stores selected by ``--store`` (all when name is None)."""
        if name is None:
            return list(self.stores)
        for s in self.stores:
            if s.name == name:
                return [s]
        known = ", ".join(s.name for s in self.stores) or "none"
        raise ConfigError(f"no store named {name!r} in the config (stores: {known})")


def _path_of(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    found = err.get("input")
    where = _path_of(tuple(p for p in err.get("loc", ()) if not _is_union_tag(p)))
    if kind == "extra_forbidden":
        return f"{where}: unknown key (check the spelling; see `shopguard init` for every key)"
    if kind == "missing":
        return f"{where}: required but missing"
    shown = repr(found)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    for prefix in ("Input should be ", "input should be "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return f"{where}: found {shown}; expected {msg[:1].lower() + msg[1:]}"


def _is_union_tag(part: int | str) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"function-after", "function-before"})


def parse_config(data: dict[str, Any], source: str = "<memory>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(dict(e)) for e in exc.errors()]
        raise ConfigError(f"{source}: invalid configuration:\n  " + "\n  ".join(lines)) from None


def load_config(path: Path) -> Config:
    """Read and validate a config file; errors name the file and field."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (create one with `shopguard init`)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); expected a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    base = path.parent
    config = parse_config(data, str(path))
    return _resolve_relative(config, base)


def _resolve_relative(config: Config, base: Path) -> Config:
    """Make relative paths in stores relative to the config file, not the CWD."""

    def fix(p: Path | None) -> Path | None:
        if p is None or p.is_absolute():
            return p
        return (base / p).resolve()

    def fix_all(paths: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(fix(p) or p for p in paths)

    stores = []
    for s in config.stores:
        files = s.files.model_copy(
            update={
                "rule_folders": fix_all(s.files.rule_folders),
                "trusted_folders": fix_all(s.files.trusted_folders),
                "allow_hashes": fix_all(s.files.allow_hashes),
                "quarantine_dir": fix(s.files.quarantine_dir),
            }
        )
        stores.append(
            s.model_copy(
                update={
                    "web_roots": fix_all(s.web_roots),
                    "ssh_key": fix(s.ssh_key),
                    "known_hosts": fix(s.known_hosts),
                    "web": s.web.model_copy(update={"ca_bundle": fix(s.web.ca_bundle)}),
                    "files": files,
                }
            )
        )
    return config.model_copy(update={"stores": tuple(stores)})


def find_config(explicit: Path | None) -> Path:
    """``--config`` if given, else ``./shopguard.toml``, else the user config folder."""
    if explicit is not None:
        return explicit
    local = Path.cwd() / CONFIG_FILENAME
    if local.exists():
        return local
    user = user_config_dir() / CONFIG_FILENAME
    if user.exists():
        return user
    raise ConfigError(
        f"no config found: looked for ./{CONFIG_FILENAME} and {user}; "
        "create one with `shopguard init` or pass --config FILE"
    )
