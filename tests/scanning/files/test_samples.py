"""Every defanged sample family is caught; clean look-alikes are not reported above low."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.findings import Severity
from shopguard.scanning.files.engine import HAVE_HYPERSCAN, Engine, EngineSpec, ScanStats, scan_tree

from .conftest import CLEAN, MALICIOUS

# sample (relative to tests/data/files/malicious) -> (lowest acceptable severity, expected rule or family)
EXPECTED: dict[str, tuple[Severity, str]] = {
    "php/eval_post_oneliner.php": (Severity.CRITICAL, "SG_PHP_Exec_Request_Input"),
    "php/assert_cookie.php": (Severity.CRITICAL, "SG_PHP_Exec_Request_Input"),
    "php/system_header.php": (Severity.CRITICAL, "SG_PHP_Exec_Request_Input"),
    "php/create_function_request.php": (Severity.CRITICAL, "SG_PHP_Exec_Request_Input"),
    "php/preg_replace_e.php": (Severity.HIGH, "SG_PHP_Preg_Replace_Eval"),
    "php/gzinflate_base64_loader.php": (Severity.CRITICAL, "SG_PHP_Eval_Of_Decoder"),
    "php/rot13_chain.php": (Severity.CRITICAL, "SG_PHP_Eval_Of_Decoder"),
    "php/hex_names.php": (Severity.HIGH, "SG_PHP_Encoded_Function_Names"),
    "php/chr_chain_variable_function.php": (Severity.HIGH, "heuristic"),
    "php/split_name_variable_function.php": (Severity.HIGH, "heuristic"),
    "php/request_variable_function.php": (Severity.CRITICAL, "SG_PHP_Request_Variable_Function"),
    "php/backtick_exec.php": (Severity.CRITICAL, "SG_PHP_Exec_Request_Input"),
    "php/include_request.php": (Severity.CRITICAL, "SG_PHP_Exec_Request_Input"),
    "php/wso_markers.php": (Severity.CRITICAL, "SG_PHP_Webshell_Markers"),
    "php/cmd_shell.php": (Severity.HIGH, "SG_PHP_Command_Shell"),
    "php/tiny_uploader.php": (Severity.HIGH, "SG_PHP_Tiny_Uploader"),
    "php/globals_table.php": (Severity.MEDIUM, "heuristic"),
    "php/magento_server_skimmer.php": (Severity.CRITICAL, "SG_PHP_Card_Data_Theft"),
    "php/favicon_backdoor.ico": (Severity.CRITICAL, "SG_PHP_Eval_Of_Decoder"),
    "php/no_extension_backdoor": (Severity.CRITICAL, "SG_PHP_Eval_Of_Decoder"),
    "php/wp-content/uploads/2024/07/thumb-cache.php": (Severity.HIGH, "heuristic"),
    "php/long_encoded_line.php": (Severity.CRITICAL, "SG_PHP_Eval_Of_Decoder"),
    "php/short_tag_header_loader.php": (Severity.HIGH, "heuristic"),
    "php/request_callback.php": (Severity.CRITICAL, "SG_PHP_Request_Callback"),
    "php/uassoc_variable_callback.php": (Severity.CRITICAL, "SG_PHP_Request_Callback"),
    "php/function_param_call_on_input.php": (Severity.HIGH, "SG_PHP_Variable_Call_On_Input"),
    "php/whitespace_padded_loader.php": (Severity.HIGH, "heuristic"),
    "php/nonascii_globals_table.php": (Severity.HIGH, "heuristic"),
    "config/prepend/.htaccess": (Severity.HIGH, "SG_Config_Auto_Prepend"),
    "config/addtype/.htaccess": (Severity.HIGH, "SG_Config_PHP_Handler_For_Media"),
    "config/userini/.user.ini": (Severity.HIGH, "SG_Config_Auto_Prepend"),
    "media/logo.gif": (Severity.HIGH, "SG_Media_Contains_PHP"),
    "js/checkout-helper.js": (Severity.CRITICAL, "SG_JS_Card_Skimmer"),
    "js/websocket_skimmer.js": (Severity.CRITICAL, "SG_JS_Card_Skimmer"),
    "js/fake_payment_form.js": (Severity.HIGH, "SG_JS_Fake_Payment_Form"),
    "js/lookalike_loader.js": (Severity.HIGH, "heuristic"),
    "js/eval_atob.js": (Severity.HIGH, "SG_JS_Eval_Of_Decoded"),
    "js/obfuscated_form_harvester.js": (Severity.HIGH, "heuristic"),
    "php/app/design/frontend/theme/footer.phtml": (Severity.HIGH, "heuristic"),
    "js/inline_skimmer.html": (Severity.CRITICAL, "SG_JS_Card_Skimmer"),
}


def _all_samples() -> list[str]:
    return sorted(str(p.relative_to(MALICIOUS)) for p in MALICIOUS.rglob("*") if p.is_file())


def test_every_sample_has_an_expectation() -> None:
    assert _all_samples() == sorted(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_malicious_sample_is_detected(engine: Engine, rel: str) -> None:
    floor, rule = EXPECTED[rel]
    # as a tree scan does: heuristics see the path inside the scanned root
    result = engine.scan_file(str(MALICIOUS / rel), ScanStats(), root_len=len(str(MALICIOUS)))
    assert result is not None, f"{rel} was not detected"
    assert result.severity >= floor, (rel, result.severity, [d.rule for d in result.detections])
    assert rule in {d.rule for d in result.detections}
    assert len(result.sha256) == 64


def test_clean_samples_stay_at_or_below_low(engine: Engine) -> None:
    for path in sorted(p for p in CLEAN.rglob("*") if p.is_file()):
        result = engine.scan_file(str(path), ScanStats(), root_len=len(str(CLEAN)))
        if result is not None:
            assert result.severity <= Severity.LOW, (path, [d.to_dict() for d in result.detections])


def test_own_domain_checkout_is_low_but_foreign_exfiltration_is_critical(engine: Engine) -> None:
    own = engine.scan_file(str(CLEAN / "checkout_own_domain.js"), ScanStats())
    assert own is not None and own.severity is Severity.LOW
    bad = engine.scan_file(str(MALICIOUS / "js/checkout-helper.js"), ScanStats())
    assert bad is not None and bad.severity is Severity.CRITICAL and bad.confidence == "high"
    assert "jquery-cdn-cache.example" in " ".join(d.description for d in bad.detections)


def test_excerpts_are_defanged(engine: Engine) -> None:
    result = engine.scan_file(str(MALICIOUS / "js/lookalike_loader.js"), ScanStats())
    assert result is not None
    text = " ".join(d.excerpt for d in result.detections)
    assert "hxxps[://]googletagmanager-stats[.]example" in text
    assert "https://" not in text


def test_content_not_extension_decides(engine: Engine, tmp_path: Path) -> None:
    # The same backdoor bytes are found whatever the file is called.
    payload = (MALICIOUS / "php/eval_post_oneliner.php").read_bytes()
    for name in ("style.css", "readme.txt", "favicon.ico", "NOEXT", "font.woff2"):
        (tmp_path / name).write_bytes(payload)
        result = engine.scan_file(str(tmp_path / name), ScanStats())
        assert result is not None and result.kind == "php", name


def test_prefilter_loses_no_sample(spec: EngineSpec, pure_spec: EngineSpec) -> None:
    """Hyperscan only dismisses files; the verdicts must equal pure yara-x's."""
    assert HAVE_HYPERSCAN  # a declared dependency: its absence is a packaging defect here
    fast = scan_tree([MALICIOUS.parent], spec, jobs=1)
    pure = scan_tree([MALICIOUS.parent], pure_spec, jobs=1)

    def verdicts(scan: object) -> dict[str, tuple[str, ...]]:
        return {r.path: tuple(sorted(d.rule for d in r.detections)) for r in scan.results}  # type: ignore[attr-defined]

    assert verdicts(fast) == verdicts(pure)
    assert fast.stats.scanned == pure.stats.scanned


def test_where_the_root_lives_does_not_matter(engine: Engine, tmp_path: Path) -> None:
    """A shop checked out under /tmp/... is not "PHP in a temp folder"."""
    shop = tmp_path / "tmp" / "var" / "cache" / "shop"
    shop.mkdir(parents=True)
    php = shop / "settings.php"
    php.write_bytes((CLEAN / "settings.php").read_bytes())
    for result in (
        engine.scan_file(str(php), ScanStats()),
        engine.scan_file(str(php), ScanStats(), root_len=len(str(shop))),
    ):
        assert result is None or result.severity <= Severity.LOW
    uploads = shop / "wp-content" / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "settings.php").write_bytes(php.read_bytes())
    inside = engine.scan_file(str(uploads / "settings.php"), ScanStats(), root_len=len(str(shop)))
    assert inside is not None and "php-in-upload-folder" in inside.detections[0].family
