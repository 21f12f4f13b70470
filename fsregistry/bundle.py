"""Portable bundles: move versions between registries (and air-gapped boxes) as one file.

A bundle is one tar archive (gzip-compressed unless its name ends in ``.tar``) holding::

    fsregistry-bundle.json             the manifest: every other member's SHA-256 and size
    models/<NAME>/<VERSION>/meta.json  the version's record, as it was at export
    models/<NAME>/<VERSION>/model.bin  ... and every payload file its meta.json lists

Export copies what the versions' ``meta.json`` describe, verifying each payload file's
hash while it is written, and publishes the archive with one ``os.replace`` so a crash
never leaves half a bundle under the final name.

Import is *audit, then write*.  Before anything is written, every member header is
checked (a regular file, a safe relative name that the manifest lists, no duplicate, not
over the size cap) and so is the manifest itself; a link, a device, ``..``, an absolute
name or an unknown member refuses the whole bundle.  Then each version is extracted into
the registry's staging area (invisible to readers) while its SHA-256 is computed, and
only when *every* file of *every* version matched does anything get published, one
version at a time with the same rename-into-place guarantee as ``save_model``.

What import keeps: name, version number (when this registry never used it), run id,
creation time, params, metrics, tags, description, signature, input example and the
recorded environment.  What it does not carry over: stage and aliases - promotion is the
receiving registry's decision - unless ``keep_stages=True``; the originals are recorded
in ``meta["source"]`` along with where and when the version was imported from.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import platform
import re
import tarfile
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from . import environment, hashing, records
from .errors import (
    BundleError,
    CorruptRegistryError,
    ImportConflictError,
    IntegrityError,
    InvalidNameError,
    ModelExistsError,
    ModelNotFoundError,
)
from .identifiers import parse_identifier
from .names import STAGES, validate_alias, validate_model_name
from .storage import files
from .storage.layout import META_JSON, MODEL_BIN, PREPROCESSOR_PKL, check_format, utcnow

if TYPE_CHECKING:
    from .registry import CustomModelRegistry

BUNDLE_KIND = "fsregistry-bundle"
#: bundle layout version; a newer one is refused with a clear message
BUNDLE_FORMAT = 1
MANIFEST_NAME = "fsregistry-bundle.json"
MODELS_PREFIX = "models"
#: default cap on one member's size; a bigger one is refused before anything is read
DEFAULT_MAX_MEMBER_SIZE = 64 * 1024**3
#: the manifest is JSON describing files, never large
MAX_MANIFEST_SIZE = 64 * 1024**2
#: more members than this is not a bundle fsregistry wrote
MAX_MEMBERS = 200_000
#: a version number above this is not one a registry allocated (and would bloat the index)
MAX_VERSION = 10_000_000

_COPY_BLOCK = 1024 * 1024
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_RUN_ID_RE = re.compile(r"[0-9a-f]{8,64}")
_PART_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REGULAR_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE)
#: what a corrupt or cut-short archive raises while it is read
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


@dataclass(frozen=True)
class ImportedVersion:
    """One version of a bundle after :func:`import_model`.

    ``status`` is ``"imported"`` (published now) or ``"present"`` (this registry already
    held the same run with the same files, so nothing was written).  ``version`` is its
    number in this registry, ``original_version`` its number in the bundle.
    """

    name: str
    version: int
    original_version: int
    run_id: str
    status: Literal["imported", "present"]

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "original_version": self.original_version,
            "run_id": self.run_id,
            "status": self.status,
            "uri": self.uri,
        }


# == export =====================================================================================


@dataclass
class _Outgoing:
    """A version on its way into a bundle: its record, read once, and where it lives."""

    name: str
    version: int
    folder: Path
    meta_bytes: bytes
    meta: dict[str, Any]

    @property
    def prefix(self) -> str:
        return f"{MODELS_PREFIX}/{self.name}/{self.version}"


def export_model(
    registry: CustomModelRegistry,
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
    only with ``overwrite=True``.  Every payload file is checked against its recorded SHA-256
    while it is copied, so a corrupt version is never exported.  Returns the bundle's path.
    """
    final = Path(path)
    if files.exists(final) and not overwrite:
        raise BundleError(f"{final} already exists; pass overwrite=True (CLI: --force) to replace it", path=str(final))
    versions = [_outgoing(registry, name, version) for name, version in _targets(registry, identifiers)]
    manifest = _manifest(registry, versions)
    gz = compress if compress is not None else not final.name.endswith(".tar")
    _write_archive(final, manifest, versions, gz)
    return final


def _targets(registry: CustomModelRegistry, identifiers: str | Sequence[str]) -> list[tuple[str, int]]:
    """``(name, version)`` pairs to export, in order, without duplicates."""
    wanted = [identifiers] if isinstance(identifiers, str) else list(identifiers)
    if not wanted:
        raise BundleError("nothing to export: name at least one model or version")
    out: dict[tuple[str, int], None] = {}
    for identifier in wanted:
        ref = parse_identifier(identifier)
        if ref.kind == "model":
            assert ref.name is not None
            found = sorted(int(v["version"]) for v in registry.list_versions(ref.name))
            if not found:
                raise ModelNotFoundError(f"model {ref.name!r} has no versions to export", name=ref.name)
            out.update(dict.fromkeys((ref.name, v) for v in found))
        else:
            out[registry.resolve(ref)] = None
    return list(out)


def _outgoing(registry: CustomModelRegistry, name: str, version: int) -> _Outgoing:
    """Read a version's ``meta.json`` once: the bundle carries exactly these bytes."""
    folder = registry.version_path(f"{name}/{version}")
    raw = (folder / META_JSON).read_bytes()
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise CorruptRegistryError(
            f"{folder / META_JSON} is not valid JSON ({exc}); run check", name=name, version=version, path=str(folder)
        ) from None
    for relative in meta.get("files") or {}:
        _check_relative(relative, f"{name}/{version} lists file")
    return _Outgoing(name, version, folder, raw, meta)


def _manifest(registry: CustomModelRegistry, versions: list[_Outgoing]) -> dict[str, Any]:
    """The manifest: what the bundle holds and the hash and size of each member."""
    members: dict[str, dict[str, Any]] = {}
    entries = []
    for out in versions:
        members[f"{out.prefix}/{META_JSON}"] = {
            "sha256": hashlib.sha256(out.meta_bytes).hexdigest(),
            "size": len(out.meta_bytes),
        }
        for relative, record in out.meta["files"].items():
            members[f"{out.prefix}/{relative}"] = {"sha256": record["sha256"], "size": int(record["size"])}
        entries.append({"name": out.name, "version": out.version, "run_id": out.meta.get("run_id"), "path": out.prefix})
    from . import __version__

    return {
        "kind": BUNDLE_KIND,
        "format": BUNDLE_FORMAT,
        "created_at": utcnow(),
        "created_by": {
            "fsregistry": __version__,
            "python": platform.python_version(),
            "host": platform.node(),
            "root": str(registry.root),
        },
        "versions": entries,
        "files": members,
    }


def _write_archive(final: Path, manifest: dict[str, Any], versions: list[_Outgoing], gz: bool) -> None:
    """Write the archive under a temporary sibling name, fsync it, then move it into place."""
    tmp = files.temp_name(final)
    try:
        with tarfile.open(tmp, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True).encode())
            for out in versions:
                _add_bytes(tar, f"{out.prefix}/{META_JSON}", out.meta_bytes)
                for relative, record in out.meta["files"].items():
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


def _add_verified(tar: tarfile.TarFile, name: str, source: Path, record: dict[str, Any], out: _Outgoing) -> None:
    """Copy one payload file into the archive, hashing it on the way; refuse a corrupt one."""
    hashing.check_size(source, record, name=out.name, version=out.version)
    with open(source, "rb") as fh:
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


# == import: audit =============================================================================


@dataclass
class _Incoming:
    """A version found in a bundle, validated but not yet written anywhere."""

    name: str
    version: int
    prefix: str
    meta: dict[str, Any]
    members: dict[str, str] = field(default_factory=dict)  # payload file -> archive member

    @property
    def run_id(self) -> str:
        return str(self.meta["run_id"])


@dataclass
class _Bundle:
    """An opened, audited bundle."""

    path: Path
    sha256: str
    tar: tarfile.TarFile
    headers: dict[str, tarfile.TarInfo]
    manifest: dict[str, Any]
    versions: list[_Incoming]


def read_manifest(path: str | os.PathLike[str], *, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE) -> dict[str, Any]:
    """The audited manifest of a bundle (what it holds), without importing anything."""
    with _opened(Path(path), max_member_size) as bundle:
        return dict(bundle.manifest)


@contextlib.contextmanager
def _opened(path: Path, max_member_size: int) -> Iterator[_Bundle]:
    """Open and audit a bundle: headers, manifest and every version's ``meta.json``."""
    digest = hashing.sha256_file(path)
    with contextlib.ExitStack() as stack:
        try:
            tar = stack.enter_context(tarfile.open(path, "r:*"))
        except _READ_ERRORS as exc:
            raise BundleError(f"{path} is not a readable bundle archive ({exc})", path=str(path)) from None
        headers = _audit_headers(tar, path, max_member_size)
        manifest = _read_manifest(tar, headers, path)
        versions = [_incoming(tar, headers, manifest, entry, path) for entry in manifest["versions"]]
        _check_coverage(headers, manifest, versions, path)
        yield _Bundle(path, digest, tar, headers, manifest, versions)


def _refuse(path: Path, why: str) -> BundleError:
    return BundleError(f"refusing bundle {path}: {why}; nothing was imported", path=str(path))


def _audit_headers(tar: tarfile.TarFile, path: Path, max_member_size: int) -> dict[str, tarfile.TarInfo]:
    """Every member header, checked before a single byte of content is used."""
    headers: dict[str, tarfile.TarInfo] = {}
    try:
        for info in tar:
            _audit_header(info, headers, path, max_member_size)
            headers[info.name] = info
            if len(headers) > MAX_MEMBERS:
                raise _refuse(path, f"more than {MAX_MEMBERS} members")
        _read_to_end(tar)
    except _READ_ERRORS as exc:
        raise _refuse(path, f"the archive is truncated or corrupt ({exc})") from None
    if MANIFEST_NAME not in headers:
        raise _refuse(path, f"no {MANIFEST_NAME}; this is not an fsregistry bundle")
    return headers


def _read_to_end(tar: tarfile.TarFile) -> None:
    """Read past the end-of-archive marker to the end of the file, so that a compressed
    stream cut short (or with a bad checksum) is caught even where the cut spared the members."""
    stream = tar.fileobj
    if stream is not None:
        while stream.read(_COPY_BLOCK):
            pass


def _audit_header(info: tarfile.TarInfo, seen: dict[str, tarfile.TarInfo], path: Path, cap: int) -> None:
    name = info.name
    if not _is_safe_member_name(name):
        raise _refuse(path, f"member {name!r} has an unsafe name (absolute, '..', or not a plain relative path)")
    if info.type not in _REGULAR_TYPES:
        raise _refuse(path, f"member {name!r} is a {_kind(info)}; bundles hold regular files only")
    if name in seen:
        raise _refuse(path, f"member {name!r} appears twice")
    limit = MAX_MANIFEST_SIZE if name == MANIFEST_NAME else cap
    if info.size > limit:
        raise _refuse(path, f"member {name!r} is {info.size} bytes, over the {limit}-byte cap")


def _kind(info: tarfile.TarInfo) -> str:
    if info.issym():
        return "symbolic link"
    if info.islnk():
        return "hard link"
    if info.isdev():
        return "device or fifo"
    if info.isdir():
        return "directory"
    return f"member of tar type {info.type!r}"


def _is_safe_member_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def _check_relative(relative: Any, what: str) -> str:
    """A payload file name from a ``meta.json``: plain relative parts only."""
    parts = relative.split("/") if isinstance(relative, str) else [""]
    if not all(_PART_RE.fullmatch(p) and ".." not in p for p in parts):
        raise BundleError(f"{what} {relative!r}, which is not a safe relative file name")
    return str(relative)


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, path: Path) -> bytes:
    """The full content of a small member (manifest, meta.json)."""
    try:
        handle = tar.extractfile(info)
        assert handle is not None  # regular files only, checked in the audit
        data = handle.read()
    except _READ_ERRORS as exc:
        raise _refuse(path, f"member {info.name!r} cannot be read; the archive is truncated ({exc})") from None
    if len(data) != info.size:
        raise _refuse(path, f"member {info.name!r} is truncated")
    return data


def _read_manifest(tar: tarfile.TarFile, headers: dict[str, tarfile.TarInfo], path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(_read_member(tar, headers[MANIFEST_NAME], path))
    except ValueError as exc:
        raise _refuse(path, f"{MANIFEST_NAME} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != BUNDLE_KIND:
        raise _refuse(path, f"{MANIFEST_NAME} is not an fsregistry bundle manifest")
    found = manifest.get("format")
    if not isinstance(found, int) or found < 1:
        raise _refuse(path, "the manifest has no valid 'format'")
    if found > BUNDLE_FORMAT:
        raise BundleError(
            f"bundle {path} uses bundle format {found}, but this fsregistry reads formats up to "
            f"{BUNDLE_FORMAT}; upgrade fsregistry on this machine to import it",
            path=str(path),
        )
    if not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("versions"), list):
        raise _refuse(path, "the manifest lacks its 'files' or 'versions' table")
    if not manifest["versions"]:
        raise _refuse(path, "the manifest lists no versions")
    for member, record in manifest["files"].items():
        if not (
            isinstance(record, dict)
            and isinstance(record.get("size"), int)
            and record["size"] >= 0
            and isinstance(record.get("sha256"), str)
            and _SHA256_RE.fullmatch(record["sha256"])
        ):
            raise _refuse(path, f"the manifest's record of {member!r} is malformed")
    return manifest


def _incoming(
    tar: tarfile.TarFile, headers: dict[str, tarfile.TarInfo], manifest: dict[str, Any], entry: Any, path: Path
) -> _Incoming:
    """Read, hash-check and validate one version's ``meta.json`` from the bundle."""
    if not isinstance(entry, dict):
        raise _refuse(path, f"malformed version entry {entry!r} in the manifest")
    try:
        name = validate_model_name(entry.get("name"))
    except InvalidNameError as exc:
        raise _refuse(path, str(exc)) from None
    version = entry.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise _refuse(path, f"version entry of {name!r} has no valid version number (1 to {MAX_VERSION})")
    prefix = f"{MODELS_PREFIX}/{name}/{version}"
    meta_member = f"{prefix}/{META_JSON}"
    if meta_member not in headers or meta_member not in manifest["files"]:
        raise _refuse(path, f"{meta_member} is missing; the archive is truncated or incomplete")
    raw = _read_member(tar, headers[meta_member], path)
    _check_digest(path, meta_member, hashlib.sha256(raw).hexdigest(), len(raw), manifest["files"][meta_member])
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise _refuse(path, f"{meta_member} is not valid JSON ({exc})") from None
    incoming = _Incoming(name, version, prefix, _validated_meta(meta, name, version, path))
    for relative, record in incoming.meta["files"].items():
        member = f"{prefix}/{relative}"
        if manifest["files"].get(member) != {"sha256": record["sha256"], "size": record["size"]}:
            raise _refuse(path, f"{member} is recorded differently in the manifest and in {meta_member}")
        incoming.members[relative] = member
    return incoming


def _validated_meta(meta: Any, name: str, version: int, path: Path) -> dict[str, Any]:
    """Check the fields import relies on; refuse anything malformed before writing."""
    if not isinstance(meta, dict):
        raise _refuse(path, f"meta.json of {name}/{version} is not a JSON object")
    where = f"{name}/{version}"
    try:
        _check_identity(meta, name, version, where)
        _check_payload(meta, where)
        _check_state(meta, where)
        records.validate_meta(meta)
    except (BundleError, CorruptRegistryError) as exc:
        raise _refuse(path, str(exc)) from None
    return meta


def _check_identity(meta: dict[str, Any], name: str, version: int, where: str) -> None:
    check_format(meta.get("format"), Path(where, META_JSON))
    if meta.get("name") != name or meta.get("version") != version:
        raise BundleError(f"meta.json of {where} describes {meta.get('name')}/{meta.get('version')}")
    if not isinstance(meta.get("run_id"), str) or not _RUN_ID_RE.fullmatch(meta["run_id"]):
        raise BundleError(f"{where} has no valid run_id")
    if not isinstance(meta.get("flavor"), str):
        raise BundleError(f"{where} names no flavor")
    try:
        dt.datetime.fromisoformat(str(meta.get("created_at")))
    except ValueError:
        raise BundleError(f"{where} has no valid created_at") from None


def _check_payload(meta: dict[str, Any], where: str) -> None:
    payload = meta.get("files")
    if not isinstance(payload, dict) or not isinstance(meta.get("model"), dict) or MODEL_BIN not in payload:
        raise BundleError(f"{where} does not describe its model file")
    if meta.get("preprocessor") and PREPROCESSOR_PKL not in payload:
        raise BundleError(f"{where} has a preprocessor but does not list {PREPROCESSOR_PKL}")
    for relative, record in payload.items():
        _check_relative(relative, f"{where} lists file")
        if relative == META_JSON or not isinstance(record, dict) or not isinstance(record.get("size"), int):
            raise BundleError(f"{where} has a malformed record for {relative!r}")


def _check_state(meta: dict[str, Any], where: str) -> None:
    """Stage and aliases are only applied with ``keep_stages``, but are always checked."""
    if meta.get("stage") not in (None, *STAGES):
        raise BundleError(f"{where} has an unknown stage {meta.get('stage')!r}")
    aliases = meta.get("aliases") or {}
    if not isinstance(aliases, (dict, list)):
        raise BundleError(f"{where} has malformed aliases")
    try:
        for alias in aliases:
            validate_alias(alias)
    except InvalidNameError as exc:
        raise BundleError(f"{where}: {exc}") from None


def _check_coverage(
    headers: dict[str, tarfile.TarInfo], manifest: dict[str, Any], versions: list[_Incoming], path: Path
) -> None:
    """Members, manifest and version records must describe exactly the same files."""
    keys = [(v.name, v.version) for v in versions]
    if len(set(keys)) != len(keys) or len({v.run_id for v in versions}) != len(versions):
        raise _refuse(path, "the manifest lists a version (or a run id) twice")
    expected = {f"{v.prefix}/{META_JSON}" for v in versions}
    for v in versions:
        expected.update(v.members.values())
    listed = set(manifest["files"])
    present = set(headers) - {MANIFEST_NAME}
    if listed != expected:
        extra = sorted(listed ^ expected)[:3]
        raise _refuse(path, f"the manifest's file list does not match its versions (e.g. {extra})")
    if present - listed:
        raise _refuse(path, f"unknown member(s) not in the manifest: {sorted(present - listed)[:3]}")
    if listed - present:
        missing = sorted(listed - present)[:3]
        raise _refuse(path, f"member(s) missing, the archive is truncated or incomplete: {missing}")
    for member in listed:
        if headers[member].size != manifest["files"][member]["size"]:
            raise _refuse(
                path,
                f"member {member!r} is {headers[member].size} bytes, the manifest says "
                f"{manifest['files'][member]['size']}",
            )


def _check_digest(path: Path, member: str, sha256: str, size: int, expected: dict[str, Any]) -> None:
    if size != expected["size"]:
        raise _refuse(path, f"{member} is {size} bytes, the manifest says {expected['size']} (truncated?)")
    if sha256 != expected["sha256"]:
        raise _refuse(path, f"{member} fails its SHA-256 check (expected {expected['sha256']}, got {sha256})")


# == import: plan ==============================================================================


@dataclass(frozen=True)
class _Plan:
    """What to do with one incoming version: nothing, or publish it (at which number)."""

    incoming: _Incoming
    present_as: tuple[str, int] | None = None
    keep_number: bool = True
    new_run_id: bool = False


def _plan(registry: CustomModelRegistry, incoming: _Incoming, as_new_version: bool) -> _Plan:
    """Decide, from the registry as it is now, how ``incoming`` lands (or refuse)."""
    _refuse_case_clash(registry, incoming.name)
    found = _find_run(registry, incoming.run_id)
    if found is not None:
        if _same_files(registry, found, incoming):
            return _Plan(incoming, present_as=found)
        if not as_new_version:
            raise ImportConflictError(
                f"run {incoming.run_id} of {incoming.name}/{incoming.version} is already in this registry as "
                f"{found[0]}/{found[1]} with different files; pass as_new_version=True (CLI: --as-new-version) "
                "to import it as a new version",
                name=incoming.name,
                version=incoming.version,
            )
        return _Plan(incoming, keep_number=False, new_run_id=True)
    taken = registry.version_number_taken(incoming.name, incoming.version)
    if taken is None:
        return _Plan(incoming)
    if not as_new_version:
        raise ImportConflictError(
            f"{incoming.name}/{incoming.version} {taken}; pass as_new_version=True "
            "(CLI: --as-new-version) to import it under the next free version number",
            name=incoming.name,
            version=incoming.version,
        )
    return _Plan(incoming, keep_number=False)


def _refuse_case_clash(registry: CustomModelRegistry, name: str) -> None:
    """Refuse early what publishing would refuse half-way through a multi-version bundle."""
    clash = [n for n in registry.layout.candidate_model_dirs() if n.lower() == name.lower() and n != name]
    if clash:
        raise ModelExistsError(
            f"the bundle's model {name!r} differs only by case from existing model {clash[0]!r}", name=name
        )


def _find_run(registry: CustomModelRegistry, run_id: str) -> tuple[str, int] | None:
    try:
        return registry.resolve(f"runs:/{run_id}/model")
    except ModelNotFoundError:
        return None


def _same_files(registry: CustomModelRegistry, found: tuple[str, int], incoming: _Incoming) -> bool:
    """True when the registry's version holds exactly the files the bundle carries."""
    here = registry.get_model_version(f"{found[0]}/{found[1]}")["files"]
    digests = {k: v.get("sha256") for k, v in here.items()}
    return digests == {k: v["sha256"] for k, v in incoming.meta["files"].items()}


# == import: write =============================================================================


def import_model(
    registry: CustomModelRegistry,
    path: str | os.PathLike[str],
    *,
    as_new_version: bool = False,
    keep_stages: bool = False,
    max_member_size: int = DEFAULT_MAX_MEMBER_SIZE,
) -> list[ImportedVersion]:
    """Import every version of the bundle at ``path`` into ``registry``.

    The whole bundle is audited and every file's SHA-256 verified before any version is
    published; a hostile or damaged bundle raises :class:`BundleError` and changes nothing.
    A version whose run is already here with the same files is skipped (``"present"``).  One
    whose number, or run id, is taken by something else raises :class:`ImportConflictError`
    (before anything is published) unless ``as_new_version=True``, which publishes it under
    the next free number (and a fresh run id when its run id was taken).  ``keep_stages=True``
    also applies the bundle's stages and aliases, displacing their current holders.  An
    :class:`~fsregistry.environment.EnvironmentMismatchWarning` names the packages whose
    installed versions differ from those a version was saved with.
    """
    with _opened(Path(path), max_member_size) as bundle:
        plans = [_plan(registry, v, as_new_version) for v in bundle.versions]  # conflicts fail here, early
        results = _import_audited(registry, bundle, plans, as_new_version, keep_stages)
    for incoming, result in zip(bundle.versions, results, strict=True):
        if result.status == "imported":
            _warn_environment(incoming)
    return results


def _import_audited(
    registry: CustomModelRegistry, bundle: _Bundle, plans: list[_Plan], as_new_version: bool, keep_stages: bool
) -> list[ImportedVersion]:
    """Stage what needs importing (verifying every hash), then plan again and publish under
    the lock, so that a concurrent writer cannot slip in between the decision and the publish."""
    staged: dict[int, Path] = {}
    try:
        for index, plan in enumerate(plans):
            if plan.present_as is None:
                staged[index] = _stage(registry, bundle, plan.incoming)
        with registry.write_lock():
            plans = [_plan(registry, v, as_new_version) for v in bundle.versions]
            for index, plan in enumerate(plans):
                if plan.present_as is None and index not in staged:  # removed meanwhile: stage it now
                    staged[index] = _stage(registry, bundle, plan.incoming)
            return _publish_all(registry, bundle, plans, staged, keep_stages)
    finally:
        for folder in staged.values():
            files.remove_tree(folder)


def _stage(registry: CustomModelRegistry, bundle: _Bundle, incoming: _Incoming) -> Path:
    """Extract one version's payload into a new staging folder, verifying every file."""
    folder = registry.staging_dir("import")
    try:
        for relative, member in incoming.members.items():
            _extract_verified(bundle, member, folder / relative)
    except BaseException:
        files.remove_tree(folder)
        raise
    return folder


def _extract_verified(bundle: _Bundle, member: str, target: Path) -> None:
    """Copy one member to ``target`` while hashing it; refuse it unless it matches the manifest."""
    expected = bundle.manifest["files"][member]
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        source = bundle.tar.extractfile(bundle.headers[member])
        assert source is not None  # regular files only, checked in the audit
        with source, open(target, "xb") as out:
            for block in iter(lambda: source.read(_COPY_BLOCK), b""):
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise _refuse(bundle.path, f"member {member!r} cannot be read; the archive is truncated ({exc})") from None
    _check_digest(bundle.path, member, digest.hexdigest(), size, expected)


def _publish_all(
    registry: CustomModelRegistry, bundle: _Bundle, plans: list[_Plan], staged: dict[int, Path], keep_stages: bool
) -> list[ImportedVersion]:
    """Publish (caller holds the lock): numbers that are kept first, renumbered ones after."""
    results: dict[int, ImportedVersion] = {}
    order = sorted(range(len(plans)), key=lambda i: (not plans[i].keep_number, plans[i].incoming.version))
    for index in order:
        plan = plans[index]
        incoming = plan.incoming
        if plan.present_as is not None:
            results[index] = ImportedVersion(*plan.present_as, incoming.version, incoming.run_id, "present")
            continue
        meta = _imported_meta(bundle, plan, keep_stages)
        wanted = incoming.version if plan.keep_number else None
        version = registry.publish_staged(incoming.name, staged[index], meta, version=wanted)
        results[index] = ImportedVersion(incoming.name, version, incoming.version, meta["run_id"], "imported")
    return [results[i] for i in range(len(plans))]


def _imported_meta(bundle: _Bundle, plan: _Plan, keep_stages: bool) -> dict[str, Any]:
    """The bundle's record, with state reset and where it came from recorded in ``source``."""
    incoming = plan.incoming
    meta = json.loads(json.dumps(incoming.meta))  # a deep copy; the audit's copy stays intact
    stage = meta.get("stage") if meta.get("stage") in STAGES else None
    aliases = sorted(meta.get("aliases") or {})
    meta["source"] = {
        "imported_from": str(bundle.path.resolve()),
        "imported_at": utcnow(),
        "bundle_sha256": bundle.sha256,
        "original_name": incoming.name,
        "original_version": incoming.version,
        "original_run_id": incoming.run_id,
        "original_stage": stage,
        "original_aliases": aliases,
        "original_stage_history": meta.get("stage_history") or [],
        "exported_at": bundle.manifest.get("created_at"),
        "exported_by": bundle.manifest.get("created_by"),
        "previous": incoming.meta.get("source"),
    }
    if plan.new_run_id:
        meta["run_id"] = uuid.uuid4().hex
    meta["stage_history"] = []
    meta["stage"] = stage if keep_stages else None
    meta["aliases"] = dict.fromkeys(aliases, meta["source"]["imported_at"]) if keep_stages else {}
    return meta


def _warn_environment(incoming: _Incoming) -> None:
    environment.warn_on_mismatch(
        incoming.meta.get("environment") or {},
        what=f"imported version {incoming.name}/{incoming.version}",
        stacklevel=5,
    )
