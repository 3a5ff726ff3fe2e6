"""Evidence: hashed copies, folders with a manifest, no half copies, chain of custody on export."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shopguard.config import Config
from shopguard.db import open_database
from shopguard.findings import Severity
from shopguard.response import evidence, incidents, timeline
from shopguard.response.models import CustodyEntry, EvidenceItem, TimelineEvent

from .conftest import REPO

SKIMMER = REPO / "demo" / "shop" / "static" / "js" / "checkout-helper.js"


@pytest.fixture
def sdb(sqlite_url: str) -> sessionmaker[Session]:
    return open_database(sqlite_url)


def _open(db: sessionmaker[Session], config: Config) -> int:
    with db.begin() as s:
        return incidents.open_incident(
            s,
            store="demo",
            title="Skimmer",
            scenario="skimmer",
            severity=Severity.CRITICAL,
            actor="Aoife",
            config=config,
        ).id


def test_file_copy_is_hashed_and_recorded(sdb: sessionmaker[Session], full_config: Config) -> None:
    iid = _open(sdb, full_config)
    with sdb.begin() as s:
        item = evidence.collect(s, incidents.get(s, iid), SKIMMER, "Aoife", "skimmer as found")
        stored = Path(item.stored_path)
    data = SKIMMER.read_bytes()
    assert item.sha256 == hashlib.sha256(data).hexdigest() and item.size == len(data)
    assert stored.read_bytes() == data and stored.is_relative_to(
        Path(os.environ["SHOPGUARD_HOME"]) / "evidence"
    )
    assert item.source_path == str(SKIMMER) and item.collector == "Aoife"
    with sdb() as s:
        custody = s.scalars(select(CustodyEntry).where(CustodyEntry.evidence_id == item.id)).all()
        assert [c.action for c in custody] == ["collected"] and custody[0].sha256 == item.sha256
        ev = s.scalars(select(TimelineEvent).where(TimelineEvent.kind == "evidence")).one()
        assert ev.data["sha256"] == item.sha256


def test_folder_copy_has_a_manifest(sdb: sessionmaker[Session], full_config: Config, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "nginx").mkdir(parents=True)
    (logs / "nginx" / "access.log").write_text('127.0.0.1 - - "POST /checkout" 200\n')
    (logs / "error.log").write_text("")
    iid = _open(sdb, full_config)
    with sdb.begin() as s:
        item = evidence.collect(s, incidents.get(s, iid), logs, "Aoife")
    assert item.kind == "folder" and item.size == len('127.0.0.1 - - "POST /checkout" 200\n')
    assert [m[0] for m in item.manifest] == ["error.log", "nginx/access.log"]
    assert item.manifest[1][1] == hashlib.sha256((logs / "nginx" / "access.log").read_bytes()).hexdigest()
    assert evidence.rehash(item) == item.sha256


def test_symlinks_in_a_folder_are_recorded_not_followed(
    sdb: sessionmaker[Session], full_config: Config, tmp_path: Path
) -> None:
    root = tmp_path / "webroot"
    (root / "js").mkdir(parents=True)
    (root / "js" / "app.js").write_text("console.log(1)")
    (root / "storage").symlink_to("/etc")  # a framework's storage link: never copy what it points to
    (root / "js" / "latest.js").symlink_to("app.js")
    iid = _open(sdb, full_config)
    with sdb.begin() as s:
        item = evidence.collect(s, incidents.get(s, iid), root, "Aoife")
        item_id = item.id
    assert ["js/latest.js", "symlink:app.js", 0] in item.manifest
    assert ["storage", "symlink:/etc", 0] in item.manifest
    stored = Path(item.stored_path)
    assert not (stored / "storage").exists() and (stored / "js" / "app.js").read_text() == "console.log(1)"
    with sdb.begin() as s:
        out = evidence.export(
            s, incidents.get(s, iid), s.get(EvidenceItem, item_id), tmp_path / "out", "Aoife"
        )
    assert (out / "js" / "app.js").exists()


def test_a_copy_failing_midway_leaves_nothing(
    sdb: sessionmaker[Session], full_config: Config, tmp_path: Path
) -> None:
    src = tmp_path / "webroot"
    src.mkdir()
    (src / "a-index.php").write_text("<?php echo 1;")
    os.mkfifo(src / "z-pipe")  # copying reaches it after a-index.php is already written
    iid = _open(sdb, full_config)
    with pytest.raises(evidence.EvidenceError, match="z-pipe: not a regular file"), sdb.begin() as s:
        evidence.collect(s, incidents.get(s, iid), src, "Aoife")
    store = evidence.evidence_root() / f"incident-{iid}"
    assert list(store.iterdir()) == []  # no partial folder left behind
    with sdb() as s:
        assert s.scalar(select(func.count()).select_from(EvidenceItem)) == 0
        inc = incidents.get(s, iid)
        assert inc.timeline_count == 1 and timeline.verify(s, inc).ok


def test_missing_source_and_missing_collector(
    sdb: sessionmaker[Session], full_config: Config, tmp_path: Path
) -> None:
    iid = _open(sdb, full_config)
    with pytest.raises(evidence.EvidenceError, match="no such file"), sdb.begin() as s:
        evidence.collect(s, incidents.get(s, iid), tmp_path / "nope.log", "Aoife")
    with pytest.raises(evidence.EvidenceError, match="collector"), sdb.begin() as s:
        evidence.collect(s, incidents.get(s, iid), SKIMMER, " ")


def test_export_checks_the_hash_and_logs_custody(
    sdb: sessionmaker[Session], full_config: Config, tmp_path: Path
) -> None:
    iid = _open(sdb, full_config)
    with sdb.begin() as s:
        item = evidence.collect(s, incidents.get(s, iid), SKIMMER, "Aoife")
        item_id = item.id
    with sdb.begin() as s:
        inc = incidents.get(s, iid)
        out = evidence.export(s, inc, s.get(EvidenceItem, item_id), tmp_path / "handover", "Aoife", "to PFI")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == item.sha256
    with sdb() as s:
        actions = [c.action for c in s.scalars(select(CustodyEntry).order_by(CustodyEntry.id))]
        assert actions == ["collected", "exported"]
    Path(item.stored_path).write_text("tampered")
    with pytest.raises(evidence.EvidenceError, match="no longer matches"), sdb.begin() as s:
        evidence.export(s, incidents.get(s, iid), s.get(EvidenceItem, item_id), tmp_path / "again", "Aoife")
