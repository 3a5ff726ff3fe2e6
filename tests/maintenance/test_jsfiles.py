"""JavaScript libraries shipped as files, detected with the retire.js repository format."""

from __future__ import annotations

from pathlib import Path

from shopguard.maintenance.service import collect, find_vulnerabilities
from shopguard.maintenance.sources.local import LocalSource
from shopguard.maintenance.vulndb.retirejs import Detector, load_repository

from .conftest import RETIREJS


def test_demo_shop_jquery_is_found_with_advisories(demo_shop: Path, synced_db: Path) -> None:
    inv = collect([demo_shop], retire_repository=synced_db.with_name("jsrepository.json"))
    (jq,) = [c for c in inv.components if c.kind == "js-file"]
    assert (jq.name, jq.version, jq.purl) == ("jquery", "1.12.4", "pkg:npm/jquery@1.12.4")
    assert jq.location == str(demo_shop / "js" / "jquery-1.12.4.min.js")
    assert jq.eol_product == "jquery"
    found = find_vulnerabilities(inv.unique(), LocalSource(synced_db))
    ids = {i for m in found[jq] for i in m.ids}
    assert {"CVE-2020-11022", "CVE-2020-11023", "CVE-2019-11358"} <= ids


def test_version_from_content_beats_file_name(tmp_path: Path) -> None:
    det = Detector(load_repository(RETIREJS))
    content = b"/*! jQuery v3.7.1 | (c) OpenJS Foundation and other contributors | jquery.org/license */\n"
    assert det.detect("jquery-1.12.4.min.js", content) == [("jquery", "jquery", "3.7.1")]
    # renamed copy without a header: the file name still tells
    assert det.detect("jquery-2.2.4.min.js", b"!function(){}") == [("jquery", "jquery", "2.2.4")]
    assert det.detect("app.js", b"console.log('hello')") == []


def test_files_in_node_modules_are_left_to_the_lockfile(tmp_path: Path) -> None:
    det_repo = RETIREJS
    (tmp_path / "node_modules" / "jquery" / "dist").mkdir(parents=True)
    (tmp_path / "node_modules" / "jquery" / "dist" / "jquery.min.js").write_text("/*! jQuery v1.12.4 */")
    inv = collect([tmp_path], retire_repository=det_repo)
    assert inv.components == []


def test_real_jquery_file_from_debian(tmp_path: Path) -> None:
    """Debian's libjs-jquery ships the real minified file; its version comes from content alone."""
    real = Path("/usr/share/javascript/jquery/jquery.min.js")  # scripts/apt-packages/maintenance.txt
    det = Detector(load_repository(RETIREJS))
    (lib, npm, version) = det.detect("jquery.min.js", real.read_bytes())[0]
    assert (lib, npm) == ("jquery", "jquery")
    assert version.split(".")[0] == "3"


def test_required_literal() -> None:
    from shopguard.maintenance.vulndb.retirejs import required_literal

    assert required_literal(r"/\*!? jQuery v(X)") == " jQuery v"
    assert required_literal(r"[^a-z.]jquery:[ ]?\"(X)\"") == "jquery:"
    assert required_literal(r"abc|defgh") == ""  # either side may match
    assert required_literal(r"(?i)jquery v(X)") == ""  # case-insensitive: no literal is certain
    assert required_literal(r"foo(bar)?bazz") == "bazz"  # an optional group contributes nothing
    assert required_literal(r"ab\.c\s+longer") == "longer"


def test_prefilter_finds_exactly_what_the_regexes_find() -> None:
    """On every JavaScript file Debian put on this machine (libjs-jquery and friends)."""
    repo = load_repository(RETIREJS)
    fast, slow = Detector(repo), Detector(repo, prefilter=False)
    files = [p for p in Path("/usr/share/javascript").rglob("*.js") if p.is_file()]
    assert files
    found = 0
    for p in files:
        content = p.read_bytes()
        res = fast.detect(p.name, content)
        assert res == slow.detect(p.name, content), p
        found += bool(res)
    assert found >= 1
