"""Where the hosting checks look on the host (``[stores.hosting]`` in shopguard.toml).

Every default is the Debian/Ubuntu location; override when the host differs or, in
tests, to point the checks at a fixture. Paths are paths on the audited host.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class HostingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nginx_bin: str = "nginx"
    nginx_conf: str | None = None
    """Passed as ``nginx -T -c FILE`` when set; else nginx's compiled-in default."""
    apache_bin: str = "apache2ctl"
    apache_conf: str | None = None
    """Passed as ``-f FILE`` when set (use ``apache_bin = "/usr/sbin/apache2"`` with it)."""
    sshd_bin: str = "sshd"
    sshd_config: str | None = None
    """Passed as ``sshd -T -f FILE`` when set."""
    php_bin: str = "php"
    php_ini: str | None = None
    """Passed as ``php -c FILE -i`` when set."""
    php_fpm_bin: str | None = None
    """Default: the newest ``/usr/sbin/php-fpm*``."""
    php_fpm_conf: str | None = None
    """Default: ``/etc/php/<version>/fpm/php-fpm.conf`` for the FPM binary found."""
    php_fpm_ini: str | None = None
    """php.ini the FPM SAPI loads; default: what ``php-fpm -i`` reports."""
    redis: tuple[str, ...] = ("127.0.0.1:6379",)
    """Redis instances to ask (``host:port``, as seen from the audited host)."""
    memcached_conf: str = "/etc/memcached.conf"
    etc: str = "/etc"
    """Root of system config (passwd, shadow, sudoers, logrotate, apt)."""
    apt_lists: str = "/var/lib/apt/lists"
    """apt's downloaded package lists; their age says when `apt-get update` last ran."""
    run_dir: str = "/run"
    """Where ``reboot-required`` appears after kernel/library updates."""
    log_dir: str = "/var/log"
    root_home: str = "/root"
    command_timeout_s: Annotated[float, Field(gt=0, le=600)] = 15.0
    max_files: Annotated[int, Field(ge=100, le=5_000_000)] = 200_000
    """Limit of files listed per web root for the ownership check."""
