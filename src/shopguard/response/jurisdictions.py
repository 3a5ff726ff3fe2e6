"""Customer jurisdiction codes ShopGuard knows, and which law family covers each."""

from __future__ import annotations

EU_EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)
"""EU member states plus the EEA countries where the GDPR also applies."""

US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    ]
)

OTHER = frozenset({"EU", "GB", "CA", "AU", "SG"})


class UnknownJurisdiction(ValueError):
    pass


def normalise(code: str) -> str:
    """Map a code to the key the law table uses (``DE`` -> ``EU``, ``us-ca`` -> ``US-CA``).

    Raises :class:`UnknownJurisdiction` for anything else, so a typo never silently drops a law.
    """
    c = code.strip().upper().replace("_", "-")
    if c == "UK":
        return "GB"
    if c in OTHER:
        return c
    if c in EU_EEA:
        return "EU"
    if c.startswith("US-") and c[3:] in US_STATES:
        return c
    raise UnknownJurisdiction(
        f"unknown jurisdiction {code!r}: expected EU (or an EU/EEA country code such as DE), GB, CA, AU, SG "
        "or a US state as US-XX (e.g. US-CA)"
    )
