"""End-of-life dates for what a shop server runs: OS releases and database majors.

:func:`lookup` asks the maintenance protocol first (``shopguard.maintenance.eol_status``,
endoflife.date data, refreshed by ``shopguard vulndb sync``) and falls back to the small
table below for anything it does not know. Table dates in our own words from the
vendors' published schedules: Debian (wiki.debian.org/DebianReleases,
wiki.debian.org/LTS), Ubuntu (ubuntu.com/about/release-cycle), PostgreSQL
(postgresql.org/support/versioning), MariaDB (mariadb.org/about/#maintenance-policy),
MySQL (Oracle lifetime support policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Support:
    product: str
    version: str
    regular_until: date
    """End of the vendor's normal security support."""
    extended_until: date | None = None
    """End of limited extended support (Debian LTS, Ubuntu ESM with Pro), if any."""
    successor: str = ""


OS_SUPPORT: dict[tuple[str, str], Support] = {
    ("debian", "10"): Support(
        "Debian", "10 (buster)", date(2022, 9, 10), date(2024, 6, 30), "Debian 12 or 13"
    ),
    ("debian", "11"): Support("Debian", "11 (bullseye)", date(2024, 8, 14), date(2026, 8, 31), "Debian 13"),
    ("debian", "12"): Support("Debian", "12 (bookworm)", date(2026, 6, 10), date(2028, 6, 30), "Debian 13"),
    ("debian", "13"): Support("Debian", "13 (trixie)", date(2028, 8, 9), date(2030, 6, 30), "Debian 14"),
    ("ubuntu", "18.04"): Support(
        "Ubuntu", "18.04 LTS", date(2023, 5, 31), date(2028, 4, 30), "Ubuntu 24.04 LTS"
    ),
    ("ubuntu", "20.04"): Support(
        "Ubuntu", "20.04 LTS", date(2025, 5, 31), date(2030, 4, 30), "Ubuntu 24.04 LTS"
    ),
    ("ubuntu", "22.04"): Support(
        "Ubuntu", "22.04 LTS", date(2027, 6, 1), date(2032, 4, 30), "Ubuntu 24.04 LTS"
    ),
    ("ubuntu", "24.04"): Support(
        "Ubuntu", "24.04 LTS", date(2029, 5, 31), date(2034, 4, 30), "Ubuntu 26.04 LTS"
    ),
    ("ubuntu", "24.10"): Support("Ubuntu", "24.10", date(2025, 7, 10), None, "Ubuntu 24.04 LTS"),
    ("ubuntu", "25.04"): Support("Ubuntu", "25.04", date(2026, 1, 15), None, "Ubuntu 24.04 LTS"),
}

DB_SUPPORT: dict[tuple[str, str], Support] = {
    ("postgresql", "11"): Support("PostgreSQL", "11", date(2023, 11, 9), None, "PostgreSQL 17"),
    ("postgresql", "12"): Support("PostgreSQL", "12", date(2024, 11, 21), None, "PostgreSQL 17"),
    ("postgresql", "13"): Support("PostgreSQL", "13", date(2025, 11, 13), None, "PostgreSQL 17"),
    ("postgresql", "14"): Support("PostgreSQL", "14", date(2026, 11, 12), None, "PostgreSQL 17"),
    ("postgresql", "15"): Support("PostgreSQL", "15", date(2027, 11, 11), None, "PostgreSQL 17"),
    ("postgresql", "16"): Support("PostgreSQL", "16", date(2028, 11, 9), None, ""),
    ("postgresql", "17"): Support("PostgreSQL", "17", date(2029, 11, 8), None, ""),
    ("mariadb", "10.4"): Support("MariaDB", "10.4", date(2024, 6, 18), None, "MariaDB 10.11 or 11.4"),
    ("mariadb", "10.5"): Support("MariaDB", "10.5", date(2025, 6, 24), None, "MariaDB 10.11 or 11.4"),
    ("mariadb", "10.6"): Support("MariaDB", "10.6", date(2026, 7, 6), None, "MariaDB 10.11 or 11.4"),
    ("mariadb", "10.11"): Support("MariaDB", "10.11", date(2028, 2, 16), None, ""),
    ("mariadb", "11.4"): Support("MariaDB", "11.4", date(2029, 5, 29), None, ""),
    ("mysql", "5.7"): Support("MySQL", "5.7", date(2023, 10, 31), None, "MySQL 8.4"),
    ("mysql", "8.0"): Support("MySQL", "8.0", date(2026, 4, 30), None, "MySQL 8.4"),
    ("mysql", "8.4"): Support("MySQL", "8.4", date(2032, 4, 30), None, ""),
}


def lookup(product: str, version: str, today: date) -> Support | None:
    """Support dates for ``product`` (``debian``, ``ubuntu``, ``postgresql``, ``mariadb``,
    ``mysql``) at ``version`` (a release cycle such as ``12`` or ``10.11``)."""
    from shopguard.maintenance import eol_status

    names = {
        "debian": "Debian",
        "ubuntu": "Ubuntu",
        "postgresql": "PostgreSQL",
        "mariadb": "MariaDB",
        "mysql": "MySQL",
    }
    try:
        st = eol_status(product, version, today)
    except Exception:  # maintenance data unreadable: our own table still answers
        st = None
    if st is not None and st.eol_date is not None:
        title = names.get(product, product)
        return Support(
            title,
            st.cycle,
            st.eol_date,
            st.extended_end if product in ("debian", "ubuntu") else None,  # DB extended support is paid
            f"{title} {st.upgrade_cycle}" if st.upgrade_cycle else "",
        )
    return OS_SUPPORT.get((product, version)) or DB_SUPPORT.get((product, version))


def support_status(s: Support, today: date) -> str:
    """``supported``, ``extended`` (only limited extended support left) or ``ended``."""
    if today <= s.regular_until:
        return "supported"
    if s.extended_until is not None and today <= s.extended_until:
        return "extended"
    return "ended"
