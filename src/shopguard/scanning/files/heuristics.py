"""Scored heuristics for what signatures miss.

Each heuristic returns :class:`Signal` objects with a weight; the engine adds
the weights of a file and turns the score into a severity. A single weak signal
(a long line, a decoder call) stays "low" on purpose: clean shop code has those
too. Malware shows several at once (a long encoded blob *and* an eval; PHP *in*
an uploads folder *and* a request-driven call).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from shopguard.scanning.files.sniff import Kind

LONG_LINE = 4096


@dataclass(frozen=True)
class Signal:
    name: str
    weight: int
    description: str
    offset: int = 0
    length: int = 0


def entropy(data: bytes) -> float:
    """Shannon entropy in bits per byte (0..8)."""
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


# --- PHP -------------------------------------------------------------------
# Features (``SGH_*`` hint rules in data/rules/hints.yar) are found by yara-x at
# memory speed; the Python below only runs where a feature says it should.

Features = Mapping[str, int]
"""Hint rule name -> offset of its first match."""

_LONG_LINE = re.compile(rb"\n([^\n]{%d})" % LONG_LINE)
_LINE_600 = re.compile(rb"\n[^\n]{600}")
_B64_BLOB = re.compile(rb"['\"]([A-Za-z0-9+/]{600,}={0,2})['\"]")
_VAR_CALL = re.compile(rb"\$[A-Za-z_]\w{0,30}\s*\(\s*\$")
_SUPERGLOBAL = re.compile(rb"\$_(GET|POST|REQUEST|COOKIE|SERVER\s*\[\s*['\"]HTTP_)|getallheaders\s*\(")
_CHR_CHAIN = re.compile(rb"(?:chr\s*\(\s*\d{1,3}\s*\)\s*\.\s*){3,}chr\s*\(\s*\d{1,3}\s*\)", re.I)
_CHR_NUM = re.compile(rb"chr\s*\(\s*(\d{1,3})\s*\)", re.I)
_CONCAT = re.compile(rb"(?:['\"][A-Za-z_0-9]{1,12}['\"]\s*\.\s*){1,24}['\"][A-Za-z_0-9]{1,12}['\"]")
_CONCAT_PART = re.compile(rb"['\"]([A-Za-z_0-9]{1,12})['\"]")
_FIRST_ARG = re.compile(rb"\$(\w{1,30})")
_ASSIGNED_FROM_INPUT = re.compile(rb"\$(\w{1,30})\s*=\s*[^;\n]{0,80}\$_(GET|POST|REQUEST|COOKIE|SERVER)")

DANGEROUS_NAMES = frozenset(
    {
        "eval",
        "assert",
        "create_function",
        "base64_decode",
        "gzinflate",
        "gzuncompress",
        "str_rot13",
        "system",
        "exec",
        "passthru",
        "shell_exec",
        "popen",
        "proc_open",
        "call_user_func",
        "file_put_contents",
        "move_uploaded_file",
        "preg_replace",
        "curl_exec",
        "fsockopen",
    }
)
_UPLOAD_PATH = re.compile(
    r"/(wp-content/uploads|pub/media|media|uploads?|var/(cache|tmp|session)|wp-content/cache|tmp|temp|images?|img)/"
)
_COMMERCIAL_ENCODER = re.compile(
    rb"extension_loaded\(\s*'ionCube Loader'\s*\)|\bsg_load\s*\(\s*'|<\?php @Zend;|\bSourceGuardian\b"
)
_TRIVIAL_PHP = re.compile(rb"^\s*<\?php\s*(//[^\n]*|/\*.*?\*/|#[^\n]*|\s)*(\?>\s*)?$", re.S)


def in_upload_folder(path: str) -> bool:
    return bool(_UPLOAD_PATH.search(path.lower().replace("\\", "/")))


def php_signals(data: bytes, path: str, features: Features) -> list[Signal]:
    out: list[Signal] = []
    if in_upload_folder(path) and not _TRIVIAL_PHP.match(data[:4096]):
        out.append(Signal("php-in-upload-folder", 5, "PHP code in an uploads, media, image or cache folder"))
    if len(data) > LONG_LINE and (m := _LONG_LINE.search(b"\n" + data)):
        line = m.group(1)
        ent = entropy(line[:65536])
        if ent > 5.6:
            out.append(
                Signal(
                    "long-dense-line",
                    3,
                    f"a line over {LONG_LINE} characters with entropy {ent:.1f} bits/char",
                    m.start(1) - 1,
                    60,
                )
            )
    if _LINE_600.search(b"\n" + data):
        blob = _B64_BLOB.search(data)
        if blob and not data[max(0, blob.start() - 12) : blob.start()].rstrip().endswith(b"base64,"):
            out.append(
                Signal(
                    "encoded-blob", 3, f"an encoded blob of {len(blob.group(1))} characters", blob.start(), 60
                )
            )
    if _COMMERCIAL_ENCODER.search(data[:8192]):
        # ionCube / SourceGuardian / Zend Guard output is dense by design: the blob is
        # not evidence (the other signals still count).
        out = [sig for sig in out if sig.name not in ("long-dense-line", "encoded-blob")]
    dec = features.get("SGH_Decoder")
    dyn = features.get("SGH_DynExec")
    if dec is not None and dyn is not None:
        out.append(Signal("decoder-and-eval", 4, "decodes data and also runs code dynamically", dyn, 40))
    elif dec is not None:
        out.append(Signal("decoder", 1, "decodes encoded data", dec, 40))
    var_call = None
    for vc in _VAR_CALL.finditer(data):
        before = data[max(0, vc.start() - 8) : vc.start()]
        if before.rstrip().endswith((b"new", b"->", b"::", b"function")):
            continue
        if vc.group(0)[1:].startswith((b"_GET", b"_POST", b"_REQUEST", b"_COOKIE", b"_SERVER", b"this")):
            continue  # prose such as "$_REQUEST ( $_GET + $_POST )", or a method call
        var_call = vc
        break
    has_input = _SUPERGLOBAL.search(data) is not None
    if var_call is not None and has_input:
        tainted = {m.group(1) for m in _ASSIGNED_FROM_INPUT.finditer(data)}
        name = var_call.group(0)[1:].split(b"(")[0].strip()
        arg = _FIRST_ARG.match(data, var_call.end() - 1)
        arg_name = arg.group(1) if arg else b""
        direct = arg_name.startswith(b"_") and arg_name[1:] in (
            b"GET",
            b"POST",
            b"REQUEST",
            b"COOKIE",
            b"SERVER",
        )
        weight = 5 if (name in tainted or arg_name in tainted or direct) else 2
        out.append(
            Signal(
                "variable-function-with-input",
                weight,
                "calls a function held in a variable and reads request input",
                var_call.start(),
                40,
            )
        )
    if "SGH_ChrChain" in features:
        for chain in _CHR_CHAIN.finditer(data):
            text = "".join(chr(int(n) % 256) for n in _CHR_NUM.findall(chain.group(0)))
            if any(name in text.lower() for name in DANGEROUS_NAMES) or "http" in text.lower():
                out.append(
                    Signal(
                        "chr-chain",
                        6,
                        f"builds the hidden name {text[:24]!r} from character codes",
                        chain.start(),
                        60,
                    )
                )
                break
    if var_call is not None or dyn is not None:
        for cat in _CONCAT.finditer(data):
            parts = _CONCAT_PART.findall(cat.group(0))
            joined = b"".join(parts).decode("ascii", "replace").lower()
            if len(parts) > 1 and (
                joined in DANGEROUS_NAMES
                or (len(joined) >= 4 and any(n.endswith(joined) for n in DANGEROUS_NAMES))
            ):
                out.append(
                    Signal(
                        "split-function-name",
                        6,
                        f"hides the function name {joined!r} by splitting it",
                        cat.start(),
                        60,
                    )
                )
                break
    if "SGH_ArrayCall" in features:
        weight = 6 if (dec is not None or has_input or "SGH_Suppress" in features) else 3
        if dec is not None and has_input:
            weight += 3
        out.append(
            Signal(
                "array-element-call",
                weight,
                "calls a function whose name sits in an array element",
                features["SGH_ArrayCall"],
                40,
            )
        )
    if "SGH_NonAsciiNames" in features:
        out.append(
            Signal(
                "non-ascii-names",
                5,
                "variable names made of non-ASCII bytes (machine obfuscation)",
                features["SGH_NonAsciiNames"],
                40,
            )
        )
    pad = data.find(b" " * 150)
    if pad != -1:
        end = pad + 150
        while end < len(data) and data[end] in b" \t":
            end += 1
        if end < len(data) and data[end] not in b"\r\n":
            out.append(
                Signal(
                    "whitespace-hidden-code", 4, "code pushed far to the right by a run of spaces", end, 40
                )
            )
    if "SGH_GlobalsTable" in features:
        out.append(
            Signal(
                "globals-call-table",
                6,
                "calls functions through an obfuscated $GLOBALS table",
                features["SGH_GlobalsTable"],
                40,
            )
        )
    if "SGH_Suppress" in features and (dyn is not None or var_call is not None) and out:
        out.append(Signal("silenced", 2, "turns off error reporting and time limits before running code"))
    return out


# --- JavaScript and HTML ----------------------------------------------------

_URL = re.compile(
    rb"//([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63}){1,6})(?=[/:'\"?\s`)]|$)"
)
_SCRIPT_SRC = re.compile(rb"<script[^>]{0,200}?\ssrc\s*=\s*['\"]?(?:https?:)?//([A-Za-z0-9.-]{3,253})", re.I)
_CODE_QUOTE = re.compile(rb"""['"`](?:https?:|wss?:)?$""", re.I)

BRANDS = (
    "jquery",
    "google",
    "gstatic",
    "analytics",
    "gtag",
    "tagmanager",
    "cloudflare",
    "cdnjs",
    "jsdelivr",
    "unpkg",
    "bootstrap",
    "facebook",
    "fbcdn",
    "stripe",
    "paypal",
    "braintree",
    "magento",
    "adobe",
    "woocommerce",
    "shopify",
    "authorize",
    "adyen",
    "klarna",
    "mollie",
    "square",
    "amazon",
    "hotjar",
)
OFFICIAL = (
    "jquery.com",
    "jquery.org",
    "jqueryui.com",
    "google.com",
    "gstatic.com",
    "google-analytics.com",
    "googletagmanager.com",
    "googleapis.com",
    "googleusercontent.com",
    "cloudflare.com",
    "jsdelivr.net",
    "unpkg.com",
    "getbootstrap.com",
    "bootstrapcdn.com",
    "facebook.com",
    "facebook.net",
    "fbcdn.net",
    "stripe.com",
    "stripe.network",
    "paypal.com",
    "paypalobjects.com",
    "braintreegateway.com",
    "braintree-api.com",
    "magento.com",
    "adobe.com",
    "woocommerce.com",
    "wordpress.org",
    "wordpress.com",
    "shopify.com",
    "shopifycdn.com",
    "authorize.net",
    "adyen.com",
    "klarna.com",
    "klarnaservices.com",
    "mollie.com",
    "squareup.com",
    "squarecdn.com",
    "amazon.com",
    "amazonaws.com",
    "media-amazon.com",
    "hotjar.com",
    "w3.org",
    "github.com",
    "github.io",
    "recaptcha.net",
    "doubleclick.net",
    "googlesyndication.com",
    "youtube.com",
)
_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t"})


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == a or host.endswith("." + a) for a in allowed)


def _stem(host: str) -> str:
    parts = host.split(".")
    return parts[-2] if len(parts) >= 2 else host


def lookalike(host: str, shop_hosts: Iterable[str] = ()) -> str | None:
    """The brand a host imitates, when it names one but is not that brand's domain."""
    host = host.lower().rstrip(".")
    shop_hosts = tuple(shop_hosts)
    if host_allowed(host, OFFICIAL) or host_allowed(host, shop_hosts):
        return None
    plain = host.translate(_LEET).replace("-", "")
    for brand in BRANDS:
        if brand in plain:
            return brand
    for shop in shop_hosts:  # imitations of the shop's own name (myshop-cdn.example for myshop.example)
        stem = _stem(shop)
        if len(stem) >= 4 and stem in plain:
            return stem
    return None


def _in_code_string(data: bytes, start: int) -> bool:
    """A URL that starts a string literal (not a comment or licence header)."""
    line_start = data.rfind(b"\n", 0, start) + 1
    head = data[line_start:start].lstrip()
    if head.startswith((b"*", b"//", b"/*", b"#", b"<!--")):
        return False
    return _CODE_QUOTE.search(data[max(line_start, start - 7) : start]) is not None


def urls_in_code(data: bytes) -> Iterator[tuple[str, int]]:
    for m in _URL.finditer(data):
        if _in_code_string(data, m.start()):
            yield m.group(1).decode("ascii", "replace").lower(), m.start()


def foreign_hosts(data: bytes, shop_hosts: Iterable[str]) -> list[str]:
    """Hosts named in code strings that are neither the shop's nor well-known services."""
    shop_hosts = tuple(shop_hosts)
    seen: list[str] = []
    for host, _ in urls_in_code(data):
        if host_allowed(host, shop_hosts) or host_allowed(host, OFFICIAL) or host in seen:
            continue
        seen.append(host)
        if len(seen) >= 10:
            break
    return seen


def js_signals(data: bytes, shop_hosts: Iterable[str], features: Features) -> list[Signal]:
    out: list[Signal] = []
    shop_hosts = tuple(shop_hosts)
    inject = "SGH_ScriptInject" in features
    net = "SGH_Network" in features
    card = "SGH_CardField" in features
    if b"<script" in data or b"<SCRIPT" in data:
        for m in _SCRIPT_SRC.finditer(data):
            host = m.group(1).decode("ascii", "replace").lower()
            brand = lookalike(host, shop_hosts)
            if brand is not None:
                out.append(
                    Signal(
                        "lookalike-script-tag",
                        10,
                        f"loads a script from {host}, a look-alike of {brand}",
                        m.start(),
                        80,
                    )
                )
                break
    brand_hint = "SGH_BrandURL" in features or any(
        len(_stem(h)) >= 4 and _stem(h).encode() in data for h in shop_hosts
    )
    if brand_hint and (inject or net):
        for host, pos in urls_in_code(data):
            brand = lookalike(host, shop_hosts)
            if brand is None:
                continue
            weight = 10 if inject else 4
            what = "loads a script from" if inject else "sends data to or refers to"
            out.append(Signal("lookalike-domain", weight, f"{what} {host}, a look-alike of {brand}", pos, 60))
            break
    obf = "SGH_ObfuscatorNames" in features
    hexrun = features.get("SGH_HexRun")
    if obf:
        out.append(
            Signal(
                "obfuscator-names",
                3 if (card or net) else 1,
                "machine-generated _0x names (a JavaScript obfuscator)",
            )
        )
    if hexrun is not None:
        out.append(
            Signal(
                "hex-escaped-code",
                3 if (card or net) else 1,
                "long run of \\x-escaped characters",
                hexrun,
                60,
            )
        )
    target = "SGH_CheckoutTarget" in features
    if target and net and (obf or hexrun is not None or "SGH_FormHarvest" in features):
        out.append(
            Signal(
                "checkout-targeting",
                6,
                "checks for the checkout page and sends data out, with obfuscation or form harvesting",
                features["SGH_CheckoutTarget"],
                60,
            )
        )
    if "SGH_FormHarvest" in features and net and (obf or hexrun is not None):
        out.append(
            Signal(
                "obfuscated-form-harvest",
                5,
                "obfuscated code that collects every form field and talks to the network",
                features["SGH_FormHarvest"],
                60,
            )
        )
    if card and net and (obf or hexrun is not None):
        out.append(
            Signal(
                "obfuscated-card-reader",
                5,
                "obfuscated code that reads card fields and talks to the network",
                features["SGH_CardField"],
                40,
            )
        )
    return out


def config_target_suspicious(data: bytes) -> Signal | None:
    """``auto_prepend_file`` pointing at media, temp or hidden files is a classic backdoor."""
    m = re.search(rb"auto_(?:prepend|append)_file\s*=?\s*['\"]?([^\s'\"]+)", data, re.I)
    if not m:
        return None
    target = m.group(1).decode("utf-8", "replace").lower()
    if "wordfence-waf.php" in target:
        return None
    bad = re.search(
        r"(\.(jpe?g|png|gif|ico|txt|css|log|bak)$|/(tmp|temp|uploads?|media|cache|images?)/|/\.[^/]+$|^/dev/shm)",
        target,
    )
    if bad:
        return Signal("prepend-suspicious-target", 6, f"loads {target!r} into every page", m.start(), 60)
    return None


def kind_signals(
    kind: Kind, data: bytes, path: str, shop_hosts: Iterable[str], features: Features
) -> list[Signal]:
    if kind is Kind.PHP:
        return php_signals(data, path, features) + js_signals(data, shop_hosts, features)
    if kind in (Kind.JS, Kind.HTML, Kind.TEXT):
        return js_signals(data, shop_hosts, features)
    if kind is Kind.SERVER_CONFIG:
        sig = config_target_suspicious(data)
        return [sig] if sig else []
    return []
