"""Converted models on disk, keyed by everything that makes a conversion different.

A converted copy is only as good as the model, the converter and the settings it came from, so
its folder is named by a hash of all of them: model id, revision (the hub snapshot, or a hash of
a local folder's files), runtime, quantisation and converter versions. A folder is written under
a temporary name and renamed into place once complete, with a manifest listing each file's size;
a folder whose manifest is missing, different or contradicted by its files is rebuilt, never
trusted. Another process converting the same model at the same time costs time, not safety.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1
"""Bumped when this module or a converter of ours changes what it writes."""


@dataclass(frozen=True)
class ConversionKey:
    """Everything a converted copy depends on."""

    model_id: str
    revision: str
    runtime: str
    quantization: str
    converter: str
    """Versions of the converting and running libraries, and of our own format."""

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def folder_name(self) -> str:
        """A readable, unique folder name: the model's last path part and the key's hash."""
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model_id.rstrip("/").split("/")[-1])[:60]
        return f"{stem}-{self.runtime}-{self.quantization}-{self.digest()}"


def model_revision(folder: Path) -> str:
    """The hub snapshot's commit for a cached hub model, else a hash of the folder's files.

    Hashing a local folder's contents means an edited copy is converted again; the hash is
    remembered next to the folder's sizes and times, so an unchanged folder is read only once.
    """
    resolved = folder.resolve()
    if resolved.parent.name == "snapshots" and re.fullmatch(r"[0-9a-f]{40}", resolved.name):
        return resolved.name
    return _content_hash(resolved)


_hash_memo: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def _content_hash(folder: Path) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    stats = tuple(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files
    )
    memo_key = (str(folder), stats)
    if memo_key in _hash_memo:
        return _hash_memo[memo_key]
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    value = "sha256:" + digest.hexdigest()
    _hash_memo[memo_key] = value
    return value


def cached_folder(root: Path, key: ConversionKey) -> Path | None:
    """The complete converted folder for this key, or None when it must be (re)built."""
    folder = root / key.folder_name()
    if not folder.is_dir():
        return None
    problem = _problem(folder, key)
    if problem is None:
        return folder
    log.warning("converted copy %s is unusable (%s): rebuilding it", folder, problem)
    return None


def _problem(folder: Path, key: ConversionKey) -> str | None:
    """Why a converted folder cannot be trusted, or None when its manifest and files agree."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"no readable manifest: {type(exc).__name__}"
    if manifest.get("format") != FORMAT or manifest.get("key") != asdict(key):
        return "its manifest is for another model or converter"
    for name, size in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            return f"{name} is missing or has the wrong size"
    return None


def build(root: Path, key: ConversionKey, convert: Callable[[Path], None]) -> Path:
    """Run ``convert(folder)`` into a fresh folder and move it into place with its manifest."""
    root.mkdir(parents=True, exist_ok=True)
    target = root / key.folder_name()
    scratch = Path(tempfile.mkdtemp(prefix=f".{key.folder_name()}-", dir=root))
    try:
        convert(scratch)
        files = {
            str(p.relative_to(scratch)): p.stat().st_size for p in scratch.rglob("*") if p.is_file()
        }
        manifest = {"format": FORMAT, "key": asdict(key), "files": files}
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if target.exists():  # stale or corrupt (checked by the caller), or a racing build
            if cached_folder(root, key) is not None:
                return target
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(scratch, target)
        except OSError:
            if cached_folder(root, key) is None:  # not a racing build that finished first
                raise
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def discard(root: Path, key: ConversionKey) -> None:
    """Remove a converted folder that failed to load, so the next load rebuilds it."""
    shutil.rmtree(root / key.folder_name(), ignore_errors=True)


def ensure(root: Path, key: ConversionKey, convert: Callable[[Path], None]) -> tuple[Path, bool]:
    """The converted folder for ``key``, built if missing or untrustworthy; (folder, built)."""
    folder = cached_folder(root, key)
    if folder is not None:
        return folder, False
    return build(root, key, convert), True
