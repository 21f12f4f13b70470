"""``check`` and ``check(repair=True)`` for a registry on object storage.

The truth is each model's head (what is visible) and each version's record (what was
saved, and where its data is).  A writer killed part-way leaves only things no head names:

* ``abandoned_version`` - a record whose version no head lists (the save died between
  creating the record and updating the head, or a delete died before its tombstone):
  repair leaves a tombstone, so the number stays used, then removes its data;
* ``leftover_data`` - payload objects under a prefix that no record names (the save died
  while uploading, before its record): repair records the prefix as swept in the model's
  head, unless a version the head lists names it by then, and deletes them;
* ``leftover_upload`` - a multipart upload never completed: repair aborts it.

With no lock, a repair on one machine cannot tell a dead writer from a live one on another,
so each of these is left alone until it is older than ``older_than`` seconds (default
:data:`GRACE_SECONDS`); ``older_than=0`` takes everything unreferenced at once.  A repair
can still race a live writer that has been silent for longer than that; it then loses
nothing acknowledged: an abandoned number is first recorded as buried in the model's head,
and unreferenced data as swept, through the head's compare-and-swap, unless the head lists
the version (or a version naming the data) by then, and a save that commits later finds
its number buried or its data swept and fails; data that a live version names is never
removed.

Reported, never fixed: ``integrity`` (a payload object that does not match its record, or
is missing), ``missing_meta`` (a head names a version with no record),
``corrupt_model_record`` and ``corrupt_meta`` (records that do not parse, or a listed
version whose record is a tombstone), ``unreadable`` (an object the server would not
return: run the check again), and ``stray_file`` (an object the registry does not know,
which may be someone's).  A version that a writer adds or deletes while the check runs is looked
at again before anything is reported about it.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError, InvalidNameError, ObjectStoreError, RegistryError, VersionNotFoundError
from ..names import validate_model_name
from ..records.fields import MAX_VERSION
from ..storage import hashing
from ..storage.layout import MARKER
from ..storage.objects import Listed
from .report import CheckReport

if TYPE_CHECKING:
    from ..store.objects import ObjectVersionStore

#: how old unreferenced objects must be before a repair removes them, by default (seconds)
GRACE_SECONDS = 3600.0

_RECORD = re.compile(r"models/([^/]+)/versions/(\d{10,16})\.json")
_HEAD = re.compile(r"models/([^/]+)/head\.json")
_DATA = re.compile(r"(data/[^/]+/[0-9a-f]{32}/)[^/]+")


def check_objects(
    store: ObjectVersionStore, *, repair: bool, verify: bool = True, older_than: float | None = None
) -> CheckReport:
    """Inspect every head, record and object under the root; fix what is unreferenced
    and older than ``older_than`` seconds when ``repair``."""
    from ..store.objects import head_key, record_key

    report = CheckReport()
    cutoff = time.time() - (GRACE_SECONDS if older_than is None else float(older_than))
    records: dict[str, dict[int, Listed]] = {}
    data: dict[str, list[Listed]] = {}
    for item in store.objects.listing(""):
        if item.key == MARKER or _HEAD.fullmatch(item.key):
            continue
        record = _RECORD.fullmatch(item.key)
        payload = _DATA.fullmatch(item.key)
        if record and not _a_version(record.group(1), int(record.group(2))):
            record = None  # a key no registry writes (version 0, a name it refuses): someone's
        if record:
            records.setdefault(record.group(1), {})[int(record.group(2))] = item
        elif payload:
            data.setdefault(payload.group(1), []).append(item)
        else:
            report.add("stray_file", "an object the registry does not know; check leaves it alone", path=item.key)
    uploads = store.objects.unfinished_uploads("")
    live: set[str] = set()  # data prefixes that a version in a head names: never removed
    referenced: set[str] = set()  # data prefixes that any record names
    abandoned: list[tuple[str, int, str | None]] = []
    # Unreferenced data is removed only when every head and record could be read: data that
    # an unreadable record names would look unreferenced.
    sweep_data = True
    for name in sorted(set(store.existing_model_names()) | set(records)):
        try:
            found = store.read_head(name)
        except ObjectStoreError as exc:
            report.add("unreadable", f"{exc}; run the check again", name=name, path=f"{store.root}/{head_key(name)}")
            sweep_data = False
            continue
        except RegistryError as exc:
            report.add("corrupt_model_record", str(exc), name=name, path=f"{store.root}/{head_key(name)}")
            sweep_data = False  # keep everything it may name
            continue
        report.models_checked += 1
        head = found[0] if found is not None else {"versions": {}}
        for version, item in sorted(records.get(name, {}).items()):
            try:
                raw = _record(store, name, version)
            except ObjectStoreError as exc:
                report.add("unreadable", f"{exc}; run the check again", name=name, version=version)
                sweep_data = False
                continue
            if raw is None or not isinstance(raw, dict):
                sweep_data = False  # not JSON: whatever data it names is unknown
            prefix = raw.get("data_prefix") if isinstance(raw, dict) else None
            prefix = prefix if isinstance(prefix, str) else None
            if prefix is not None:
                referenced.add(prefix)
            if str(version) in head["versions"]:
                if prefix is not None:
                    live.add(prefix)
                _check_version(store, name, version, report, verify)
            elif isinstance(raw, dict) and raw.get("deleted") is not True and item.modified <= cutoff:
                abandoned.append((name, version, prefix))
        for key in head["versions"]:
            if int(key) not in records.get(name, {}) and _still_missing(store, name, int(key)):
                report.add(
                    "missing_meta",
                    "the head lists a version whose record is missing; delete the version (force) or restore it",
                    name=name,
                    version=int(key),
                    path=f"{store.root}/{record_key(name, int(key))}",
                )
    for name, version, prefix in abandoned:
        if _listed_now(store, name, version):
            continue  # committed while the check ran
        problem = report.add(
            "abandoned_version",
            "a version's record that no head lists (a save or delete that did not finish)",
            name=name,
            version=version,
            path=f"{store.root}/{record_key(name, version)}",
        )
        if repair:
            try:
                problem.fixed = store.bury_abandoned(name, version, prefix, keep_data=prefix in live)
            except RegistryError as exc:  # the server, or other writers winning every time: reported
                problem.detail += f"; repair could not finish: {exc}"
    uploading = {u.key.rsplit("/", 1)[0] + "/" for u in uploads}
    for prefix, items in sorted(data.items()) if sweep_data else ():
        if prefix in referenced or prefix in uploading or max(i.modified for i in items) > cutoff:
            continue
        name = prefix.split("/")[1]
        if not _a_model_name(name):  # under a name no registry writes: someone's, left alone
            report.add("stray_file", "objects the registry does not know; check leaves them alone", path=prefix)
            continue
        # a save still running may have created its record since the listing: the head
        # decides (store.sweep_unreferenced), and a prefix a listed version names is kept
        why = f"{len(items)} payload object(s) that no record names (an upload that did not finish)"
        swept = False
        if repair:
            try:
                swept = store.sweep_unreferenced(name, prefix, set(records.get(name, {})))
            except RegistryError as exc:  # the server, or other writers winning every time: reported
                why += f"; repair could not finish: {exc}"
            else:
                if not swept:
                    continue  # a version committed meanwhile names it: not a leftover
        report.add("leftover_data", why, path=f"{store.root}/{prefix}").fixed = swept
    for upload in uploads:
        if upload.started > cutoff:
            continue
        problem = report.add("leftover_upload", "a multipart upload that was never completed", path=upload.key)
        if repair:
            store.objects.abort_upload(upload)
            problem.fixed = True
    return report


def _a_version(name: str, version: int) -> bool:
    """Whether ``name``/``version`` is one a registry could have written a record for."""
    return _a_model_name(name) and 1 <= version <= MAX_VERSION


def _a_model_name(name: str) -> bool:
    """Whether ``name`` is one a registry could have stored objects under."""
    try:
        validate_model_name(name)
    except InvalidNameError:
        return False
    return True


def _record(store: ObjectVersionStore, name: str, version: int) -> Any:
    """A record as stored; ``None`` when it is gone or is not JSON.  :class:`ObjectStoreError`
    when it cannot be read now."""
    from ..store.objects import record_key

    blob = store.objects.get(record_key(name, version))
    try:
        return json.loads(blob.data) if blob is not None else None
    except (ValueError, RecursionError):
        return None


def _listed_now(store: ObjectVersionStore, name: str, version: int) -> bool:
    found = store.read_head(name)
    return found is not None and str(version) in found[0]["versions"]


def _still_missing(store: ObjectVersionStore, name: str, version: int) -> bool:
    """Whether a version the head listed is still listed and still has no record (a save
    that committed after the listing was taken has both)."""
    try:
        return _record(store, name, version) is None and _listed_now(store, name, version)
    except ObjectStoreError:
        return False  # reported as unreadable elsewhere, not as missing


def _check_version(store: ObjectVersionStore, name: str, version: int, report: CheckReport, verify: bool) -> None:
    """Read a live version's record and, with ``verify``, download and hash every file."""
    try:
        meta = store.read_meta(name, version)
        prefix = store.data_prefix_of(name, version, meta)  # as a load checks it
    except VersionNotFoundError as exc:
        if _listed_now(store, name, version):  # not deleted meanwhile: listed, yet its record is gone
            report.add("corrupt_meta", str(exc), name=name, version=version, path=getattr(exc, "path", None))
        return
    except ObjectStoreError as exc:
        report.add("unreadable", f"{exc}; run the check again", name=name, version=version)
        return
    except RegistryError as exc:
        report.add("corrupt_meta", str(exc), name=name, version=version, path=getattr(exc, "path", None))
        return
    report.versions_checked += 1
    if not verify:
        return
    with tempfile.TemporaryDirectory(prefix="fsregistry-check-") as tmp:
        for relative, expected in meta.files.items():
            local = Path(tmp) / relative
            where = f"{store.root}/{prefix}{relative}"
            try:
                store.objects.download(prefix + relative, local)
                hashing.verify_file(local, expected, name=name, version=version)
            except IntegrityError as exc:
                report.add(
                    "integrity",
                    f"{relative}: {exc}; delete the version (fsregistry delete {name}/{version}) and import it "
                    "again from a bundle",
                    name=name,
                    version=version,
                    path=where,
                )
                continue
            except ObjectStoreError as exc:
                if not _listed_now(store, name, version):
                    continue  # deleted while the check ran
                key = prefix + relative
                try:
                    missing = not any(item.key == key for item in store.objects.listing(key))
                except ObjectStoreError:
                    missing = False
                if missing:
                    report.add(
                        "integrity",
                        f"{relative} is missing from the store; delete the version (fsregistry delete "
                        f"{name}/{version}) and import it again from a bundle",
                        name=name,
                        version=version,
                        path=where,
                    )
                else:
                    report.add(
                        "unreadable", f"{relative}: {exc}; run the check again", name=name, version=version, path=where
                    )
                continue
            report.files_verified += 1
