"""Reading a bundle: *audit before use*.  Every member header, the manifest and each
version's ``meta.json`` are checked before any content is trusted; hashes are checked as
members are extracted."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import records
from ..errors import BundleError, BundleNotFoundError, CorruptRegistryError, InvalidNameError
from ..names import STAGES, validate_alias, validate_model_name, validate_tags
from ..storage import hashing
from ..storage.layout import META_JSON, MODEL_BIN, PREPROCESSOR_PKL, check_format
from .archive import (
    BUNDLE_FORMAT,
    BUNDLE_KIND,
    COPY_BLOCK,
    DEFAULT_MAX_MEMBER_SIZE,
    MANIFEST_NAME,
    MAX_MANIFEST_SIZE,
    MAX_MEMBERS,
    MAX_RECORDS_TOTAL,
    MAX_VERSION,
    MODELS_PREFIX,
    READ_ERRORS,
    REGULAR_TYPES,
    RUN_ID_RE,
    SHA256_RE,
    BoundedTarInfo,
    ExtendedHeaderTooLarge,
    check_relative,
    is_safe_member_name,
    refuse,
)


@dataclass
class Incoming:
    """A version found in a bundle, validated but not yet written anywhere."""

    name: str
    version: int
    prefix: str
    meta: records.VersionRecord
    members: dict[str, str] = field(default_factory=dict)  # payload file -> archive member

    @property
    def run_id(self) -> str:
        return self.meta.run_id


@dataclass(frozen=True)
class ModelLevel:
    """A model's own description and tags as exported (``manifest["models"]``)."""

    description: str
    tags: dict[str, str]


@dataclass
class Bundle:
    """An opened, audited bundle."""

    path: Path
    sha256: str
    tar: tarfile.TarFile
    headers: dict[str, tarfile.TarInfo]
    manifest: dict[str, Any]
    versions: list[Incoming]
    #: per model name; empty for bundles written before model-level data travelled
    models: dict[str, ModelLevel] = field(default_factory=dict)


def read_manifest(path: str | os.PathLike[str], *, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE) -> dict[str, Any]:
    """The audited manifest of a bundle (what it holds), without importing anything."""
    with opened(Path(path), max_member_size) as bundle:
        return dict(bundle.manifest)


@contextlib.contextmanager
def opened(path: Path, max_member_size: int) -> Iterator[Bundle]:
    """Open and audit a bundle: headers, manifest and every version's ``meta.json``."""
    try:
        kind = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise BundleNotFoundError(f"no bundle file at {path}", path=str(path)) from None
    if not stat.S_ISREG(kind):  # a folder, a FIFO or a device (reading one could block forever)
        raise BundleNotFoundError(f"no bundle file at {path}: it is not a regular file", path=str(path))
    try:
        digest = hashing.sha256_file(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise BundleNotFoundError(f"no bundle file at {path}", path=str(path)) from None
    with contextlib.ExitStack() as stack:
        try:
            tar = stack.enter_context(tarfile.open(path, "r:*", tarinfo=BoundedTarInfo))
        except READ_ERRORS as exc:
            raise BundleError(f"{path} is not a readable bundle archive ({exc})", path=str(path)) from None
        headers, small = _audit_headers(tar, path, max_member_size)
        manifest = _read_manifest(small, headers, path)
        versions = [_incoming(small, headers, manifest, entry, path) for entry in manifest["versions"]]
        _check_coverage(headers, manifest, versions, path)
        models = _model_levels(manifest, versions, path)
        yield Bundle(path, digest, tar, headers, manifest, versions, models)


def _audit_headers(
    tar: tarfile.TarFile, path: Path, max_member_size: int
) -> tuple[dict[str, tarfile.TarInfo], dict[str, bytes]]:
    """Every member header, checked before a single byte of content is used; and the
    content of the records (the manifest, each ``meta.json``), read on the way, in archive
    order (see :data:`~fsregistry.bundle.archive.MAX_RECORDS_TOTAL`)."""
    headers: dict[str, tarfile.TarInfo] = {}
    small: dict[str, bytes] = {}
    total = 0
    try:
        for info in tar:
            _audit_header(info, headers, path, max_member_size)
            headers[info.name] = info
            if len(headers) > MAX_MEMBERS:
                raise refuse(path, f"more than {MAX_MEMBERS} members")
            if _is_record(info.name):
                total += info.size
                if total > MAX_RECORDS_TOTAL:
                    raise refuse(
                        path, f"its records (manifest and meta.json files) hold over {MAX_RECORDS_TOTAL} bytes"
                    )
                small[info.name] = _read_member(tar, info, path)
        _read_to_end(tar)
    except ExtendedHeaderTooLarge as exc:
        raise refuse(path, f"{exc}; fsregistry writes none that large") from None
    except READ_ERRORS as exc:
        raise refuse(path, f"the archive is truncated or corrupt ({exc})") from None
    if MANIFEST_NAME not in headers:
        raise refuse(path, f"no {MANIFEST_NAME}; this is not an fsregistry bundle")
    return headers, small


def _read_to_end(tar: tarfile.TarFile) -> None:
    """Read past the end-of-archive marker to the end of the file, so that a compressed
    stream cut short (or with a bad checksum) is caught even where the cut spared the members."""
    stream = tar.fileobj
    if stream is not None:
        while stream.read(COPY_BLOCK):
            pass


def _audit_header(info: tarfile.TarInfo, seen: dict[str, tarfile.TarInfo], path: Path, cap: int) -> None:
    name = info.name
    if not is_safe_member_name(name):
        raise refuse(path, f"member {name!r} has an unsafe name (absolute, '..', or not a plain relative path)")
    if info.type not in REGULAR_TYPES:
        raise refuse(path, f"member {name!r} is a {_kind(info)}; bundles hold regular files only")
    if name in seen:
        raise refuse(path, f"member {name!r} appears twice")
    limit = MAX_MANIFEST_SIZE if _is_record(name) else cap
    if info.size > limit:
        raise refuse(path, f"member {name!r} is {info.size} bytes, over the {limit}-byte cap")


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


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, path: Path) -> bytes:
    """The full content of a small member (manifest, meta.json)."""
    try:
        handle = tar.extractfile(info)
        assert handle is not None  # regular files only, checked in the audit
        data = handle.read()
    except READ_ERRORS as exc:
        raise refuse(path, f"member {info.name!r} cannot be read; the archive is truncated ({exc})") from None
    if len(data) != info.size:
        raise refuse(path, f"member {info.name!r} is truncated")
    return data


def _is_record(name: str) -> bool:
    """The manifest, or a version's ``meta.json``: capped at ``MAX_MANIFEST_SIZE``."""
    return name == MANIFEST_NAME or name.endswith(f"/{META_JSON}")


def _record(small: dict[str, bytes], member: str, path: Path) -> bytes:
    """A record's content, as read when the archive was read through."""
    if member not in small:
        raise refuse(path, f"{member} is missing; the archive is truncated or incomplete")
    return small[member]


def _read_manifest(small: dict[str, bytes], headers: dict[str, tarfile.TarInfo], path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(_record(small, MANIFEST_NAME, path))
    except ValueError as exc:
        raise refuse(path, f"{MANIFEST_NAME} is not valid JSON ({exc})") from None
    except RecursionError:
        raise refuse(path, f"{MANIFEST_NAME} is nested too deeply to be a manifest") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != BUNDLE_KIND:
        raise refuse(path, f"{MANIFEST_NAME} is not an fsregistry bundle manifest")
    found = manifest.get("format")
    if not isinstance(found, int) or found < 1:
        raise refuse(path, "the manifest has no valid 'format'")
    if found > BUNDLE_FORMAT:
        raise BundleError(
            f"bundle {path} uses bundle format {found}, but this fsregistry reads formats up to "
            f"{BUNDLE_FORMAT}; upgrade fsregistry on this machine to import it",
            path=str(path),
        )
    if not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("versions"), list):
        raise refuse(path, "the manifest lacks its 'files' or 'versions' table")
    if not manifest["versions"]:
        raise refuse(path, "the manifest lists no versions")
    for member, record in manifest["files"].items():
        if not (
            isinstance(record, dict)
            and isinstance(record.get("size"), int)
            and record["size"] >= 0
            and isinstance(record.get("sha256"), str)
            and SHA256_RE.fullmatch(record["sha256"])
        ):
            raise refuse(path, f"the manifest's record of {member!r} is malformed")
    return manifest


def _incoming(
    small: dict[str, bytes], headers: dict[str, tarfile.TarInfo], manifest: dict[str, Any], entry: Any, path: Path
) -> Incoming:
    """Read, hash-check and validate one version's ``meta.json`` from the bundle."""
    if not isinstance(entry, dict):
        raise refuse(path, f"malformed version entry {entry!r} in the manifest")
    try:
        name = validate_model_name(entry.get("name"))
    except InvalidNameError as exc:
        raise refuse(path, str(exc)) from None
    version = entry.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise refuse(path, f"version entry of {name!r} has no valid version number (1 to {MAX_VERSION})")
    prefix = f"{MODELS_PREFIX}/{name}/{version}"
    meta_member = f"{prefix}/{META_JSON}"
    if meta_member not in headers or meta_member not in manifest["files"]:
        raise refuse(path, f"{meta_member} is missing; the archive is truncated or incomplete")
    raw = _record(small, meta_member, path)
    check_digest(path, meta_member, hashlib.sha256(raw).hexdigest(), len(raw), manifest["files"][meta_member])
    try:
        meta = json.loads(raw)
    except ValueError as exc:
        raise refuse(path, f"{meta_member} is not valid JSON ({exc})") from None
    except RecursionError:
        raise refuse(path, f"{meta_member} is nested too deeply to be a record") from None
    incoming = Incoming(name, version, prefix, _validated_meta(meta, name, version, path))
    for relative, record in incoming.meta.files.items():
        member = f"{prefix}/{relative}"
        if manifest["files"].get(member) != {"sha256": record["sha256"], "size": record["size"]}:
            raise refuse(path, f"{member} is recorded differently in the manifest and in {meta_member}")
        incoming.members[relative] = member
    return incoming


def _validated_meta(meta: Any, name: str, version: int, path: Path) -> records.VersionRecord:
    """Check the fields import relies on; refuse anything malformed before writing."""
    if not isinstance(meta, dict):
        raise refuse(path, f"meta.json of {name}/{version} is not a JSON object")
    where = f"{name}/{version}"
    try:
        _check_identity(meta, name, version, where)
        _check_payload(meta, where)
        _check_state(meta, where)
        return records.validate_meta(meta)
    except (BundleError, CorruptRegistryError) as exc:
        raise refuse(path, str(exc)) from None


def _check_identity(meta: dict[str, Any], name: str, version: int, where: str) -> None:
    check_format(meta.get("format"), Path(where, META_JSON))
    if meta.get("name") != name or meta.get("version") != version:
        raise BundleError(f"meta.json of {where} describes {meta.get('name')}/{meta.get('version')}")
    if not isinstance(meta.get("run_id"), str) or not RUN_ID_RE.fullmatch(meta["run_id"]):
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
        check_relative(relative, f"{where} lists file")
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
    headers: dict[str, tarfile.TarInfo], manifest: dict[str, Any], versions: list[Incoming], path: Path
) -> None:
    """Members, manifest and version records must describe exactly the same files."""
    keys = [(v.name, v.version) for v in versions]
    if len(set(keys)) != len(keys) or len({v.run_id for v in versions}) != len(versions):
        raise refuse(path, "the manifest lists a version (or a run id) twice")
    expected = {f"{v.prefix}/{META_JSON}" for v in versions}
    for v in versions:
        expected.update(v.members.values())
    listed = set(manifest["files"])
    present = set(headers) - {MANIFEST_NAME}
    if listed != expected:
        extra = sorted(listed ^ expected)[:3]
        raise refuse(path, f"the manifest's file list does not match its versions (e.g. {extra})")
    if present - listed:
        raise refuse(path, f"unknown member(s) not in the manifest: {sorted(present - listed)[:3]}")
    if listed - present:
        missing = sorted(listed - present)[:3]
        raise refuse(path, f"member(s) missing, the archive is truncated or incomplete: {missing}")
    for member in listed:
        if headers[member].size != manifest["files"][member]["size"]:
            raise refuse(
                path,
                f"member {member!r} is {headers[member].size} bytes, the manifest says "
                f"{manifest['files'][member]['size']}",
            )


def _model_levels(manifest: dict[str, Any], versions: list[Incoming], path: Path) -> dict[str, ModelLevel]:
    """The optional ``models`` table: each model's own description and tags.  Bundles written
    before it existed have none; one that is there must be well formed, for a model the
    bundle carries versions of (unknown keys inside an entry are ignored)."""
    table = manifest.get("models")
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise refuse(path, "the manifest's 'models' table is not an object")
    carried = {v.name for v in versions}
    out = {}
    for name, entry in table.items():
        if name not in carried:
            raise refuse(path, f"the manifest's 'models' table names {name!r}, of which the bundle has no version")
        if not isinstance(entry, dict) or not isinstance(entry.get("description", ""), str):
            raise refuse(path, f"the manifest's model-level record of {name!r} is malformed")
        try:
            tags = validate_tags(entry.get("tags") or {})
        except InvalidNameError as exc:
            raise refuse(path, f"model-level tags of {name!r}: {exc}") from None
        out[name] = ModelLevel(entry.get("description") or "", tags)
    return out


def check_digest(path: Path, member: str, sha256: str, size: int, expected: dict[str, Any]) -> None:
    if size != expected["size"]:
        raise refuse(path, f"{member} is {size} bytes, the manifest says {expected['size']} (truncated?)")
    if sha256 != expected["sha256"]:
        raise refuse(path, f"{member} fails its SHA-256 check (expected {expected['sha256']}, got {sha256})")
