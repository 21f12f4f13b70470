"""Writing a bundle: the chosen versions, their payload files (verified while copied) and
a manifest of hashes, published with one ``os.replace``."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import BundleError, IntegrityError, InvalidArgumentError, ModelNotFoundError
from ..identifiers import parse_identifier
from ..records import VersionRecord
from ..records.typed import FileDigests
from ..storage import files, hashing
from ..storage.layout import META_JSON, utcnow
from .archive import BUNDLE_FORMAT, BUNDLE_KIND, MANIFEST_NAME, MODELS_PREFIX, check_relative

if TYPE_CHECKING:
    from ..store.opener import Store


@dataclass
class _Outgoing:
    """A version on its way into a bundle: its record, read once, and where it lives."""

    name: str
    version: int
    folder: Path
    meta_bytes: bytes
    meta: VersionRecord

    @property
    def prefix(self) -> str:
        return f"{MODELS_PREFIX}/{self.name}/{self.version}"


def export_model(
    store: Store,
    identifiers: str | Sequence[str],
    path: str | os.PathLike[str],
    *,
    compress: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the versions ``identifiers`` name into one bundle file at ``path``.

    ``identifiers`` is one identifier or a list; a version identifier (``nba/3``,
    ``models:/nba/Production``, ``nba@champion``, ``runs:/ID/model``) adds that version, a
    bare model name (``nba``) adds every version of the model.  The archive is gzip-compressed
    unless ``path`` ends in ``.tar`` (``compress`` overrides).  An existing file is replaced
    only with ``overwrite=True``; a folder, or a path whose folder does not exist, is refused
    (:class:`~fsregistry.errors.InvalidArgumentError`).  Every payload file is checked against
    its recorded SHA-256 while it is copied, so a corrupt version is never exported.  The
    models' own description and tags travel in the manifest.  Returns the bundle's path.
    """
    final = Path(path)
    _check_destination(final, overwrite)
    with contextlib.ExitStack() as open_folders:
        versions = [_outgoing(store, name, version, open_folders) for name, version in _targets(store, identifiers)]
        manifest = _manifest(store, versions)
        gz = compress if compress is not None else not final.name.endswith(".tar")
        _write_archive(final, manifest, versions, gz)
    return final


def _check_destination(final: Path, overwrite: bool) -> None:
    """Refuse, before anything is read, a destination the archive cannot be moved onto."""
    if final.is_dir():
        raise InvalidArgumentError(
            f"cannot export to {final}: it is a folder; name the bundle file, e.g. {final / 'bundle.tar.gz'}",
            path=str(final),
        )
    folder = final.parent
    if not folder.is_dir():
        why = "is not a folder" if files.exists(folder) else "does not exist; create it first"
        raise InvalidArgumentError(f"cannot export to {final}: the destination folder {folder} {why}", path=str(final))
    if files.exists(final) and not overwrite:
        raise BundleError(f"{final} already exists; pass overwrite=True (CLI: --force) to replace it", path=str(final))


def _targets(store: Store, identifiers: str | Sequence[str]) -> list[tuple[str, int]]:
    """``(name, version)`` pairs to export, in order, without duplicates."""
    wanted = [identifiers] if isinstance(identifiers, str) else list(identifiers)
    if not wanted:
        raise BundleError("nothing to export: name at least one model or version")
    out: dict[tuple[str, int], None] = {}
    for identifier in wanted:
        ref = parse_identifier(identifier)
        if ref.kind == "model":
            assert ref.name is not None
            found = sorted(int(v["version"]) for v in store.list_versions(ref.name))
            if not found:
                raise ModelNotFoundError(f"model {ref.name!r} has no versions to export", name=ref.name)
            out.update(dict.fromkeys((ref.name, v) for v in found))
        else:
            out[store.resolve(ref)] = None
    return list(out)


def _outgoing(store: Store, name: str, version: int, open_folders: contextlib.ExitStack) -> _Outgoing:
    """Read a version's ``meta.json`` once (checked as every reader checks it): the bundle
    carries exactly these bytes."""
    raw, meta = store.version_files(name, version)
    for relative in meta.files:
        check_relative(relative, f"{name}/{version} lists file")
    folder = open_folders.enter_context(store.local_folder(name, version, meta))
    return _Outgoing(name, version, folder, raw, meta)


def _manifest(store: Store, versions: list[_Outgoing]) -> dict[str, Any]:
    """The manifest: what the bundle holds and the hash and size of each member."""
    members: dict[str, dict[str, Any]] = {}
    entries = []
    for out in versions:
        members[f"{out.prefix}/{META_JSON}"] = {
            "sha256": hashlib.sha256(out.meta_bytes).hexdigest(),
            "size": len(out.meta_bytes),
        }
        for relative, record in out.meta.files.items():
            members[f"{out.prefix}/{relative}"] = {"sha256": record["sha256"], "size": int(record["size"])}
        entries.append({"name": out.name, "version": out.version, "run_id": out.meta.run_id, "path": out.prefix})
    from .._version import __version__

    models = {name: _model_level(store, name) for name in dict.fromkeys(out.name for out in versions)}
    return {
        "kind": BUNDLE_KIND,
        "format": BUNDLE_FORMAT,
        "created_at": utcnow(),
        "created_by": {
            "fsregistry": __version__,
            "python": platform.python_version(),
            "host": platform.node(),
            "root": str(store.root),
        },
        "versions": entries,
        "models": models,
        "files": members,
    }


def _model_level(store: Store, name: str) -> dict[str, Any]:
    """The model's own description and tags (not its versions'), for ``manifest["models"]``."""
    summary = store.model_summary(name, {}) or {}
    return {"description": summary.get("description") or "", "tags": dict(summary.get("tags") or {})}


def _write_archive(final: Path, manifest: dict[str, Any], versions: list[_Outgoing], gz: bool) -> None:
    """Write the archive under a temporary sibling name, fsync it, then move it into place."""
    tmp = files.temp_name(final)
    try:
        with tarfile.open(tmp, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True).encode())
            for out in versions:
                _add_bytes(tar, f"{out.prefix}/{META_JSON}", out.meta_bytes)
                for relative, record in out.meta.files.items():
                    _add_verified(tar, f"{out.prefix}/{relative}", out.folder / relative, record, out)
        files.fsync_file(tmp)
        os.replace(tmp, final)
        files.fsync_dir(final.parent)
    finally:
        files.remove_file(tmp)


def _member(name: str, size: int) -> tarfile.TarInfo:
    """A plain, ownerless regular-file header (nothing about the exporting box leaks)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.uname = info.gname = ""
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_member(name, len(data)), io.BytesIO(data))


def _add_verified(tar: tarfile.TarFile, name: str, source: Path, record: FileDigests, out: _Outgoing) -> None:
    """Copy one payload file into the archive, hashing it on the way; refuse a corrupt one."""
    hashing.check_size(source, record, name=out.name, version=out.version)
    with files.open_stored(source) as fh:
        reader = _HashingReader(fh)
        tar.addfile(_member(name, int(record["size"])), reader)
    if reader.hexdigest() != record.get("sha256"):
        raise IntegrityError(
            f"{source.name} of {out.name}/{out.version} does not match its recorded SHA-256; "
            "it is corrupt and was not exported (run check)",
            name=out.name,
            version=out.version,
            path=str(source),
        )


class _HashingReader(io.RawIOBase):
    """A read-only file wrapper that hashes every byte read through it."""

    def __init__(self, fh: IO[bytes]) -> None:
        super().__init__()
        self._fh = fh
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._digest.update(data)
        return data

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
