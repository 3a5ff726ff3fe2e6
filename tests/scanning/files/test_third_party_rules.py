"""Third-party rule sets load unchanged: includes relative to the including file,
imports, the external variables LOKI/THOR define, private and global rules, relaxed
regular expressions, and errors that name the file and line (also inside an
included file). The rule files in tests/data/rules are ours, in the shape of
php-malware-finder and signature-base."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shopguard.scanning.files.engine import make_spec, scan_tree
from shopguard.scanning.files.rules import RuleError, load_rules, read_sources

RULES = Path(__file__).resolve().parents[2] / "data" / "rules"


def _hits(tmp_path: Path, folder: Path, files: dict[str, bytes]) -> dict[str, set[str]]:
    """Scan ``files`` (relative path -> content) with only the folder's third-party
    rules counted; returns file name -> names of the user rules that matched."""
    root = tmp_path / "www"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    spec = make_spec([folder], third_party=True)
    out: dict[str, set[str]] = {rel: set() for rel in files}
    for result in scan_tree([root], spec, jobs=1).results:
        rel = os.path.relpath(result.path, root)
        out[rel] = {d.rule for d in result.detections if d.source.startswith("user_")}
    return out


def test_php_malware_finder_layout_loads_with_nested_includes(tmp_path: Path) -> None:
    sources = read_sources([RULES / "pmf_style"])
    # allow.yar and lists/*.yar are included by php.yar; compiled alone, allow.yar
    # would fail (it uses `hash` without importing it), so only php.yar is an entry
    assert [Path(s.path).name for s in sources] == ["php.yar"]
    (php,) = sources
    assert {Path(p).name for p in php.includes} == {"allow.yar", "cms.yar", "vendor.yar"}
    hits = _hits(
        tmp_path,
        RULES / "pmf_style",
        {
            "evil.php": b"<?php echo 'sg_eval_marker';\n",
            "varvar.php": b"<?php ${$abc} = 1;\n",
            "encoded.php": b"<?php $x = 'c2dfZW5jb2RlZF9tYXJrZXI=';\n",
            # known-good by sha1 (lists/cms.yar) and by md5 (lists/vendor.yar)
            "good.php": b'<?php /* known good */ echo "sg_eval_marker";\n',
            "vendor.php": b'<?php /* vendor file */ echo "sg_eval_marker"; // allowed by md5\n',
            # the global private rule limits every rule to PHP
            "notes.txt": b"sg_eval_marker\n",
        },
    )
    assert hits == {
        "evil.php": {"SgObfuscatedCall"},
        "varvar.php": {"SgObfuscatedCall"},
        "encoded.php": {"SgSuspiciousEncoding"},  # the private rule itself is never reported
        "good.php": set(),
        "vendor.php": set(),
        "notes.txt": set(),
    }


def test_relaxed_regex_needs_the_third_party_flag() -> None:
    with pytest.raises(RuleError) as err:
        load_rules([RULES / "pmf_style"], third_party=False)
    assert f"{RULES / 'pmf_style' / 'php.yar'}:22:" in str(err.value)
    load_rules([RULES / "pmf_style"], third_party=True)


def test_signature_base_external_variables_and_modules(tmp_path: Path) -> None:
    hits = _hits(
        tmp_path,
        RULES / "sigbase_style",
        {
            "shell_abc.php": b"<?php // sg_ext_marker\n",
            "uploads/2024/pic.php": b"<?php // sg_ext_marker\n",
            "uploads/shell_x.txt": b"sg_ext_marker\n",
            "md5.php": b"<?php // sg_ext_marker md5 check\n",
            "owned.php": b"<?php // sg_owner_marker\n",
            "setup.ico": b"MZ this is no real executable\n",
            "blob.bin": os.urandom(64 * 1024),
            "bad.dat": b"sg_known_bad\n",
            "bad2.dat": b"sg_known_bad_too\n",
            "clean.php": b"<?php echo 'hello';\n",
        },
    )
    assert hits == {
        "shell_abc.php": {"SgExtNameAndType"},  # filename, extension with its dot, filetype
        "uploads/2024/pic.php": {"SgExtFolder"},  # filepath is the folder
        "uploads/shell_x.txt": set(),
        "md5.php": {"SgExtMd5"},
        "owned.php": {"SgExtOwnerKnown"},  # the owning user's name
        "setup.ico": {"SgTinyExeInWebRoot"},  # pe module; filetype EXE from the magic bytes
        "blob.bin": {"SgRandomBlob"},  # math module
        "bad.dat": {"SgKnownBadHash"},  # hash module
        "bad2.dat": {"SgKnownBadHash"},
        "clean.php": set(),
    }


def _write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def test_error_inside_an_included_file_names_that_file_and_line(tmp_path: Path) -> None:
    rules = _write(
        tmp_path / "set",
        {
            "main.yar": 'import "hash"\ninclude "parts/a.yar"\nrule main_rule { condition: a_rule }\n',
            "parts/a.yar": 'rule a_rule {\n  strings:\n    $a = "x"\n  condition:\n    $a and nosuch\n}\n',
        },
    )
    with pytest.raises(RuleError) as err:
        load_rules([rules], third_party=True)
    assert f"{rules / 'parts' / 'a.yar'}:5:" in str(err.value)


def test_error_after_an_include_names_the_including_file_and_its_line(tmp_path: Path) -> None:
    rules = _write(
        tmp_path / "set",
        {
            "main.yar": 'include "a.yar"\n\nrule broken {\n  condition:\n    nosuch\n}\n',
            "a.yar": "rule a_rule {\n  condition:\n    true\n}\n",
        },
    )
    with pytest.raises(RuleError) as err:
        load_rules([rules], third_party=True)
    assert f"{rules / 'main.yar'}:5:" in str(err.value)


def test_missing_and_circular_includes_are_refused_with_file_and_line(tmp_path: Path) -> None:
    missing = _write(tmp_path / "missing", {"m.yar": '\n\ninclude "nope.yar"\n'})
    with pytest.raises(RuleError, match=r"m\.yar:3: include \"nope\.yar\": no such file"):
        load_rules([missing], third_party=True)
    loop = _write(
        tmp_path / "loop",
        {"a.yar": 'include "b.yar"\nrule a { condition: true }\n', "b.yar": 'include "a.yar"\n'},
    )
    with pytest.raises(RuleError, match=r"b\.yar:1: include \"a\.yar\" includes itself"):
        load_rules([loop], third_party=True)


def test_include_lines_inside_comments_and_strings_are_not_includes(tmp_path: Path) -> None:
    rules = _write(
        tmp_path / "set",
        {
            "main.yar": (
                'rule a { strings: $s = "/*" condition: $s }  // a "/*" in a string opens nothing\n'
                'include "real.yar"\n'
                "/* a block comment\n"
                'include "not-there.yar"\n'
                "*/ rule b { condition: real_rule } // /* in a line comment opens nothing\n"
                'include "real2.yar"\n'
            ),
            "real.yar": "rule real_rule { condition: true }\n",
            "real2.yar": "rule real_rule2 { condition: true }\n",
        },
    )
    (src,) = read_sources([rules])
    assert {Path(p).name for p in src.includes} == {"real.yar", "real2.yar"}
    assert src.origin(2) == (str(rules / "real.yar"), 1)
    assert src.origin(6) == (str(rules / "real2.yar"), 1)
    assert src.origin(5) == (str(rules / "main.yar"), 5)
    load_rules([rules], third_party=True)
