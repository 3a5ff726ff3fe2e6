"""Evidence preservation: copy files or folders into the evidence store, hashed, atomically.

A copy is written under a temporary name in the evidence folder and renamed only when complete and
hashed; the database row is added after the rename, in the same transaction as the timeline event.
A copy that fails mid-way is removed and nothing is recorded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from shopguard.paths import user_data_dir
from shopguard.response import timeline
from shopguard.response.models import CustodyEntry, EvidenceItem, Incident

CHUNK = 1024 * 1024


class EvidenceError(Exception):
    pass


def evidence_root() -> Path:
    return user_data_dir() / "evidence"


def sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _copy_file(src: Path, dst: Path) -> tuple[str, int]:
    """Copy and hash in one pass, so the hash is of the bytes actually stored."""
    st = src.lstat()
    if not stat.S_ISREG(st.st_mode):
        raise EvidenceError(f"{src}: not a regular file (special files and links are not copied)")
    h = hashlib.sha256()
    size = 0
    with src.open("rb") as fin, dst.open("xb") as fout:
        while chunk := fin.read(CHUNK):
            h.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copystat(src, dst)
    os.chmod(dst, 0o400)  # preserved evidence is read-only
    return h.hexdigest(), size


@dataclass(frozen=True)
class Copied:
    kind: str
    stored: Path
    sha256: str
    size: int
    manifest: list[list[object]]


def _folder_digest(manifest: list[list[object]]) -> str:
    lines = "".join(f"{m[1]}  {m[2]}  {m[0]}\n" for m in sorted(manifest))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def copy_into_store(source: Path, dest_dir: Path) -> Copied:
    """Copy ``source`` (file or folder) into ``dest_dir``; atomic: all or nothing."""
    if not source.exists():
        raise EvidenceError(f"{source}: no such file or folder")
    dest_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest_dir.mkdir(exist_ok=True, mode=0o700)
    final = dest_dir / source.name
    n = 1
    while final.exists():
        n += 1
        final = dest_dir / f"{source.name}.{n}"
    tmp = dest_dir / f".partial-{uuid.uuid4().hex}"
    try:
        if source.is_dir():
            manifest: list[list[object]] = []
            tmp.mkdir(mode=0o700)
            total = 0
            for root, dirs, files in os.walk(source):
                dirs.sort()
                rel_root = Path(root).relative_to(source)
                (tmp / rel_root).mkdir(parents=True, exist_ok=True)
                for name in sorted(files + [d for d in dirs if (Path(root) / d).is_symlink()]):
                    rel = rel_root / name
                    if (Path(root) / name).is_symlink():
                        # Recorded, not followed: a link may point anywhere on the server.
                        manifest.append([rel.as_posix(), f"symlink:{os.readlink(Path(root) / name)}", 0])
                        continue
                    digest, size = _copy_file(Path(root) / name, tmp / rel)
                    manifest.append([rel.as_posix(), digest, size])
                    total += size
            manifest.sort()
            os.rename(tmp, final)
            return Copied("folder", final, _folder_digest(manifest), total, manifest)
        digest, size = _copy_file(source, tmp)
        os.rename(tmp, final)
        return Copied("file", final, digest, size, [])
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def collect(
    s: Session,
    incident: Incident,
    source: Path,
    collector: str,
    description: str = "",
    source_label: str | None = None,
) -> EvidenceItem:
    """Preserve ``source`` for ``incident`` and record it with a custody entry and a timeline event.

    ``source_label`` replaces the path in the record when the file is only a staging copy (a
    dashboard upload is staged in a private temp folder; the record names the uploaded file)."""
    if not collector.strip():
        raise EvidenceError("collector: say who collected the evidence (--by)")
    source = source.expanduser().absolute()
    label = source_label or str(source)
    try:
        copied = copy_into_store(source, evidence_root() / f"incident-{incident.id}")
    except OSError as exc:
        raise EvidenceError(f"{source}: copy failed: {exc.strerror or exc}") from None
    try:
        item = EvidenceItem(
            incident_id=incident.id,
            kind=copied.kind,
            source_path=label,
            stored_path=str(copied.stored),
            sha256=copied.sha256,
            size=copied.size,
            manifest=copied.manifest,
            collector=collector,
            description=description,
        )
        s.add(item)
        s.flush()
        s.add(
            CustodyEntry(
                evidence_id=item.id,
                at=item.collected_at,
                actor=collector,
                action="collected",
                destination=str(copied.stored),
                sha256=copied.sha256,
            )
        )
        timeline.append(
            s,
            incident,
            "evidence",
            collector,
            {
                "evidence": item.id,
                "source": label,
                "sha256": copied.sha256,
                "size": copied.size,
                "kind": copied.kind,
            },
            at=item.collected_at,
        )
    except BaseException:
        if copied.stored.is_dir():
            shutil.rmtree(copied.stored, ignore_errors=True)
        else:
            copied.stored.unlink(missing_ok=True)
        raise
    return item


def _tree_digest(path: Path, recorded: list[list[object]]) -> str:
    """Digest of a stored folder: its files plus the symlinks recorded (not copied) at collection."""
    manifest: list[list[object]] = [m for m in recorded if str(m[1]).startswith("symlink:")]
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            d, size = sha256_file(p)
            manifest.append([p.relative_to(path).as_posix(), d, size])
    return _folder_digest(manifest)


def rehash(item: EvidenceItem) -> str:
    path = Path(item.stored_path)
    if item.kind == "file":
        return sha256_file(path)[0]
    return _tree_digest(path, item.manifest)


def export(
    s: Session, incident: Incident, item: EvidenceItem, dest: Path, actor: str, note: str = ""
) -> Path:
    """Hand a copy over (e.g. to the forensic investigator); checks the hash and logs custody."""
    current = rehash(item)
    if current != item.sha256:
        raise EvidenceError(
            f"evidence {item.id}: stored copy no longer matches its sha256 "
            f"({item.sha256[:12]} -> {current[:12]}); "
            "not exported"
        )
    copied = copy_into_store(Path(item.stored_path), dest)
    exported = copied.sha256 if item.kind == "file" else _tree_digest(copied.stored, item.manifest)
    if exported != item.sha256:
        raise EvidenceError(f"evidence {item.id}: exported copy hash differs; check {copied.stored}")
    s.add(
        CustodyEntry(
            evidence_id=item.id,
            actor=actor,
            action="exported",
            destination=str(copied.stored),
            sha256=exported,
            note=note,
        )
    )
    timeline.append(
        s,
        incident,
        "custody",
        actor,
        {
            "evidence": item.id,
            "action": "exported",
            "destination": str(copied.stored),
            "sha256": exported,
        },
    )
    return copied.stored
