"""The version store on object storage (``s3://`` roots): the same registry, with no lock.

A bucket offers no rename and no lock, so the guarantees of the folder store are kept by
two conditional writes instead (:class:`~fsregistry.storage.objects.ObjectStore`):

- **a version number is taken by creating its record** with ``If-None-Match: *``: of two
  writers that try one number, exactly one succeeds and the other tries the next.  Records
  are never removed (a deleted or abandoned version keeps a small tombstone), so a number
  is never given out twice;
- **everything that changes is in one small object per model, its head**, replaced only
  with ``If-Match: <etag of what was read>``.  The head holds the model's record, who holds
  each stage and alias, and the summary of every live version.  A writer whose head is stale
  reads it again and reapplies its change, so concurrent promotions on many machines apply
  one after another, exactly as under the folder store's lock.

A save uploads its files under a fresh prefix (``data/NAME/TOKEN/``) while it creates the
version's record, then adds the version to the head: **the head is the commit point**, so a
version is visible only when its data and record are complete.  A writer killed at any instant
leaves data or a record that no head names; ``check(repair=True, older_than=...)`` removes
them once they are older than the grace period.  Format: docs/design.md, "Object storage".

Three small requests per save besides the uploads (read the head, create the record, replace
the head; the first two while the files upload); a resolve is one (the head); a load is two
(head and record) plus downloads that the local content cache
(:mod:`fsregistry.storage.cache`) saves on the second load.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from .. import records
from ..errors import (
    ConcurrentWriteError,
    CorruptRecordError,
    CorruptRegistryError,
    IntegrityError,
    InvalidIdentifierError,
    ModelExistsError,
    ModelNotFoundError,
    ObjectStoreError,
    PickleRefusedError,
    ProtectedVersionError,
    VersionNotFoundError,
)
from ..identifiers import ModelRef, parse_identifier
from ..names import EXCLUSIVE_STAGES, refuse_alias_twin
from ..records import claims
from ..records import fields as record_fields
from ..records.fields import MAX_VERSION
from ..storage.cache import ContentCache, entry_key
from ..storage.layout import FORMAT_VERSION, MARKER, check_format, utcnow
from ..storage.objects import ObjectStore
from .opener import Change

T = TypeVar("T")

#: the marker's ``layout`` value: a registry in objects, not folders
LAYOUT = "objects"
#: how many checked heads are remembered (a listing of every model reads every head)
_CHECKED_HEADS = 1024
#: how many recent writes a head remembers (to recognise one whose reply was lost)
_WRITES = 32
#: files uploaded or downloaded at once (a version has one to a few)
_PARALLEL = 4
#: how many times a head change is retried against other writers before giving up
MAX_ATTEMPTS = 60
_DATA_PREFIX = re.compile(r"data/[^/]+/[0-9a-f]{32}/")
#: keys of a version's state that live in the head, over its (immutable) record
_STATE = ("stage", "aliases", "tags", "description", "stage_history", "alias_history")


def head_key(name: str) -> str:
    return f"models/{name}/head.json"


def record_key(name: str, version: int) -> str:
    return f"models/{name}/versions/{version:010d}.json"


def data_prefix(name: str) -> str:
    return f"data/{name}/{uuid.uuid4().hex}/"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


class ObjectVersionStore:
    """The versions of every model under one ``s3://`` root.  Same methods as the folder
    store (:class:`fsregistry.store.versions.VersionStore`); there is no write lock:
    :meth:`write_lock` groups nothing and every change is a compare-and-swap of a head."""

    #: a save's staged files are only uploaded (the bucket keeps them), never flushed here
    durable_staging = False

    def __init__(self, objects: ObjectStore, cache: ContentCache, *, create: bool, logger: Any = None) -> None:
        self.objects = objects
        self.root = objects.url
        self.cache = cache
        self.logger: Any = logger if logger is not None else logging.getLogger("fsregistry")
        #: heads already checked field by field, by (model, entity tag, size)
        self._checked: OrderedDict[tuple[str, str, int], None] = OrderedDict()
        self._initialize(create)

    def _initialize(self, create: bool) -> None:
        """Check the marker; make it when ``create`` and the prefix is empty."""
        blob = self.objects.get(MARKER)
        if blob is None:
            if not create:
                raise CorruptRegistryError(f"{self.root} is not an fsregistry root (no {MARKER})", path=self.root)
            other = next(iter(self.objects.listing("")), None)
            if other is not None:
                raise CorruptRegistryError(
                    f"{self.root} holds other objects ({other.key}) and no {MARKER}; a new registry needs an "
                    "empty prefix",
                    path=self.root,
                )
            marker = _dumps({"format": FORMAT_VERSION, "created_at": utcnow(), "kind": "fsregistry", "layout": LAYOUT})
            if self.objects.put(MARKER, marker, if_absent=True) is None:
                return  # a concurrent creator's is as good
            # Every guarantee rests on the server refusing a second create of one key and a
            # replacement of a changed one: a server that ignores If-None-Match or If-Match would
            # let two writers take one version number, or one overwrite the other's promotion.
            for header, probe in (("If-None-Match", {"if_absent": True}), ("If-Match", {"if_match": f'"{"0" * 32}"'})):
                try:
                    honoured = self.objects.put(MARKER, marker, **probe) is None
                except BaseException:  # a server that rejects the header outright: no registry either
                    with contextlib.suppress(Exception):
                        self.objects.delete([MARKER])
                    raise
                if not honoured:
                    with contextlib.suppress(Exception):
                        self.objects.delete([MARKER])
                    raise ObjectStoreError(
                        f"{self.root}: the server at {getattr(self.objects, 'endpoint', 'this endpoint')} ignores "
                        f"conditional writes ({header}), which a registry needs to keep concurrent writers "
                        "apart; use a server that supports them (AWS S3, a recent MinIO or Ceph RGW)",
                        path=self.root,
                    )
            return
        where = f"{self.root}/{MARKER}"
        try:
            found: Any = json.loads(blob.data)
        except (ValueError, RecursionError):
            found = None
        if not isinstance(found, dict):
            raise CorruptRegistryError(f"{where} is unreadable; is this a registry root?", path=self.root)
        check_format(found.get("format"), where)
        if found.get("layout") != LAYOUT:
            raise CorruptRegistryError(f"{where} does not describe a registry in objects", path=self.root)

    def write_lock(self) -> Any:
        """Nothing to hold: every change to a model is a compare-and-swap of its head."""
        return contextlib.nullcontext()

    def staging_dir(self, purpose: str) -> Path:
        """A private local folder for a save's files (then kept as their cache entry)."""
        return self.cache.staging_dir(purpose)

    # == heads =================================================================================

    def read_head(self, name: str) -> tuple[dict[str, Any], str] | None:
        """The model's head and its entity tag; ``None`` when the model has none."""
        blob = self.objects.get(head_key(name))
        if blob is None:
            return None
        where = f"{self.root}/{head_key(name)}"
        try:
            raw = json.loads(blob.data)
        except (ValueError, RecursionError) as exc:
            raise CorruptRecordError(f"{where} is not valid JSON ({exc})", name=name, path=where) from None
        checked = (name, blob.etag, len(blob.data))
        if checked not in self._checked:  # these exact bytes passed their checks before
            record_fields.parse_head(raw, where, name=name)
            self._checked[checked] = None
            while len(self._checked) > _CHECKED_HEADS:
                self._checked.popitem(last=False)
        return raw, blob.etag

    def _require_head(self, name: str) -> dict[str, Any]:
        found = self.read_head(name)
        if found is None:
            raise ModelNotFoundError(f"no model named {name!r} in {self.root}", name=name)
        return found[0]

    def _change_head(
        self,
        name: str,
        change: Callable[[dict[str, Any]], Any],
        *,
        create: bool = False,
        read: tuple[dict[str, Any], str] | None = None,
    ) -> Any:
        """Apply ``change`` to the model's head and write it back only if nobody changed it
        meanwhile; otherwise read it again and reapply.  ``change`` may run several times
        and must only modify the head it is given; it returns the call's result.  ``read``
        is a head the caller has just read (and will not use again), tried first.

        Each write carries a fresh token, kept in the head's last :data:`_WRITES` writes: a
        write that the server applied but whose reply was lost (the client's retry is then
        refused, as the head has changed) is recognised by its token and not applied twice.
        """
        token = uuid.uuid4().hex[:16]
        found = read
        for attempt in range(MAX_ATTEMPTS):
            if found is None:
                found = self.read_head(name)
            if found is None and not create:
                raise ModelNotFoundError(f"no model named {name!r} in {self.root}", name=name)
            head, etag = found if found is not None else (_new_head(name), None)
            base = list(head.get("writes", ()))
            result = change(head)
            head["updated_at"] = utcnow()
            head["writes"] = [*base[-(_WRITES - 1) :], token]
            if self.objects.put(head_key(name), _dumps(head), if_absent=etag is None, if_match=etag) is not None:
                return result
            retried = self.objects.refusal_was_retried()
            found = self.read_head(name)
            if retried and found is not None and not self._lost(name, found[0].get("writes", []), base, token):
                return result  # this very write landed; only its reply was lost
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # another writer won: again
        raise ConcurrentWriteError(
            f"{self.root}: gave up changing model {name!r} after {MAX_ATTEMPTS} attempts; other writers "
            "changed it every time",
            name=name,
            path=self.root,
        )

    def _lost(self, name: str, writes: list[str], base: list[str], token: str) -> bool:
        """After a head write refused on a retry: whether it did not land (so it may be
        applied again; a refusal of a first attempt always means that).
        The head keeps its last :data:`_WRITES` tokens; ours is among them if it landed, and
        if the last write ours was based on is still among them, so would ours be.  When
        both have been pushed out, nobody can tell: the call fails rather than risk applying
        a change twice."""
        if token in writes:
            return False
        if (base and base[-1] in writes) or (not base and len(writes) < _WRITES):
            return True
        raise ConcurrentWriteError(
            f"{self.root}: a change to model {name!r} may or may not have been applied (the request was "
            f"retried, and more than {_WRITES} writes followed); look at the model before repeating it",
            name=name,
            path=self.root,
        )

    # == publish ===============================================================================

    def publish(
        self,
        name: str,
        staged: Path,
        meta: records.VersionRecord,
        stage: str | None = None,
        aliases: list[str] | None = None,
        *,
        version: int | None = None,
    ) -> int:
        """Upload a fully written version from ``staged``, take its number, then make it
        visible in the head (with ``stage`` and ``aliases``).  ``version`` is kept when it
        was never used by this model.  Returns the version."""
        prefix = data_prefix(name)
        meta.extra["data_prefix"] = prefix
        meta.stage, meta.aliases, meta.stage_history = None, {}, []
        meta.stage_seq, meta.alias_seq, meta.alias_history = 0, {}, []

        def take_number() -> tuple[tuple[dict[str, Any], str] | None, int, str]:
            found = self.read_head(name)
            if found is None or not _ever_used(found[0]):
                self._refuse_case_clash(name)
            return found, *self._allocate(name, found[0] if found else None, meta, version)

        # The files upload while the number is taken (read the head, create the record):
        # neither makes anything visible, only the head's update below does.
        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            numbered = pool.submit(take_number)
            uploads = [pool.submit(self.objects.upload, prefix + rel, staged / rel) for rel in meta.files]
            every: list[Future[Any]] = [numbered, *uploads]
            wait(every)
        failed = next((f.exception() for f in every if f.exception() is not None), None)
        if failed is not None:
            if numbered.exception() is None:
                self._abandon(name, numbered.result()[1], prefix)
            else:
                with contextlib.suppress(Exception):  # best effort: check(repair=True) removes the rest
                    self.objects.delete([prefix + rel for rel in meta.files])
            raise failed
        found, number, _ = numbered.result()
        now = utcnow()
        try:
            self._change_head(
                name, lambda head: _add_version(head, meta, stage, list(aliases or ()), now), create=True, read=found
            )
        except BaseException as exc:
            if not (self._abandon(name, number, prefix) and isinstance(exc, Exception)):
                raise
            # the head names the version after all: the write succeeded and its reply was lost
        with contextlib.suppress(OSError):  # the files just uploaded are the version's cache entry
            self.cache.adopt(entry_key(meta.files), staged)
        return number

    def _allocate(
        self, name: str, head: dict[str, Any] | None, meta: records.VersionRecord, wanted: int | None
    ) -> tuple[int, str]:
        """Create the version's record under the first free number (a record, even a
        tombstone, exists for every number ever taken); returns the number and the
        record's entity tag."""
        number = max(head["last_version"], head["max_deleted_version"]) + 1 if head else 1
        if number > MAX_VERSION:
            raise CorruptRegistryError(
                f"{self.root}/{head_key(name)}: model {name!r} has no version number left (the head says "
                f"{number - 1} were used); run check", name=name, path=self.root,
            )  # fmt: skip
        tries = [wanted] if wanted is not None and (head is None or wanted > head["max_deleted_version"]) else []
        while True:
            candidate = tries.pop() if tries else number
            meta.version = candidate
            tag = self.objects.put(record_key(name, candidate), _dumps(meta.to_json()), if_absent=True)
            if tag is not None:
                return candidate, tag
            # taken by another writer, or by this one: a retry whose first attempt landed
            mine = self._record_if_ours(name, candidate, meta.extra["data_prefix"])
            if mine is not None:
                return candidate, mine
            if candidate == number:
                number += 1

    def _record_if_ours(self, name: str, version: int, prefix: str) -> str | None:
        """The entity tag of the version's record if it is this save's (it names this
        save's unique data prefix and is no tombstone), else ``None``."""
        blob = self.objects.get(record_key(name, version))
        try:
            record = json.loads(blob.data) if blob is not None else None
        except (ValueError, RecursionError):
            return None
        ours = isinstance(record, dict) and record.get("data_prefix") == prefix and record.get("deleted") is not True
        return blob.etag if ours and blob is not None else None

    def _abandon(self, name: str, version: int, prefix: str) -> bool:
        """A save failed after taking its number.  Returns True when the head names the
        version after all (the reply to a write that succeeded was lost); otherwise leaves
        a tombstone and removes the data, best effort: what this cannot do,
        ``check(repair=True)`` does later."""
        try:
            head = self.read_head(name)
            if head is not None and str(version) in head[0]["versions"]:
                return True
            self.bury(name, version, prefix)
        except Exception as exc:  # the save's own error is the one to report
            self.logger.warning("could not clean up the failed save of %s/%s (%s)", name, version, exc)
        return False

    def bury_abandoned(self, name: str, version: int, prefix: str | None, *, keep_data: bool = False) -> bool:
        """Remove a version that no head lists (a save or delete that did not finish), for
        ``check(repair=True)``.  The head decides, through its compare-and-swap, between the
        repair and a save that is still running: the number is first recorded as buried in
        the head, unless the head lists it by then; a save that commits later finds it buried
        and fails.  Returns False, doing nothing, when the head lists the version."""

        def mark(head: dict[str, Any]) -> bool:
            if str(version) in head["versions"]:
                return False
            head["buried"] = sorted({*head.get("buried", ()), version})
            return True

        if not self._change_head(name, mark, create=True):
            return False
        return self.bury(name, version, prefix, keep_data=keep_data)

    def sweep_unreferenced(self, name: str, prefix: str, seen: set[int]) -> bool:
        """Remove the payload objects under ``prefix``, which no record named when
        ``check(repair=True)`` listed ``name``'s records (``seen``: the versions whose
        records it read), for that repair.  A save still running may have uploaded them and
        created its record since, so the head decides, as for :meth:`bury_abandoned`: the
        prefix is first recorded as swept in the head, unless a version the head lists by
        then names it (the records of versions not in ``seen`` are read); a save that
        commits later finds its prefix swept and fails, publishing nothing.  Returns False,
        removing nothing, when a listed version names the prefix."""

        def mark(head: dict[str, Any]) -> bool:
            for key in head["versions"]:
                if int(key) not in seen and self._record_names(name, int(key), prefix):
                    return False
            head["swept"] = sorted({*head.get("swept", ()), prefix})
            return True

        if not _DATA_PREFIX.fullmatch(prefix) or not prefix.startswith(f"data/{name}/"):
            return False
        if not self._change_head(name, mark, create=True):
            return False
        self.objects.delete([item.key for item in self.objects.listing(prefix)])
        return True

    def _record_names(self, name: str, version: int, prefix: str) -> bool:
        """Whether the version's record names ``prefix`` as its data (an unreadable record
        counts as naming it: nothing it may name is removed)."""
        blob = self.objects.get(record_key(name, version))
        if blob is None:
            return False
        try:
            record = json.loads(blob.data)
        except (ValueError, RecursionError):
            return True
        return not isinstance(record, dict) or record.get("data_prefix") == prefix

    def bury(
        self, name: str, version: int, prefix: str | None, *, if_match: str | None = None, keep_data: bool = False
    ) -> bool:
        """Replace a version's record with a tombstone (only if its entity tag is still
        ``if_match``, when given), then remove its data unless ``keep_data``.  The number
        stays taken.  Returns False, doing nothing, when the record changed meanwhile."""
        tomb = {"format": FORMAT_VERSION, "name": name, "version": version, "deleted": True, "deleted_at": utcnow()}
        if self.objects.put(record_key(name, version), _dumps(tomb), if_match=if_match) is None:
            return False
        # only this model's data: a record edited to name another model's is no reason to remove it
        if (
            prefix is not None
            and _DATA_PREFIX.fullmatch(prefix)
            and prefix.startswith(f"data/{name}/")
            and not keep_data
        ):
            self.objects.delete([item.key for item in self.objects.listing(prefix)])
        return True

    def _refuse_case_clash(self, name: str) -> None:
        clash = self.model_case_twin(name)
        if clash is not None:
            raise ModelExistsError(f"model name {name!r} differs only by case from existing model {clash!r}", name=name)

    def model_case_twin(self, name: str) -> str | None:
        """A model whose name differs from ``name`` only by case, or ``None``.  A head no
        save ever committed to (a repair's marker for a model that never had a version:
        no versions, numbers never used) is no model."""
        for other in self.existing_model_names():
            if other == name or other.casefold() != name.casefold():
                continue
            found = self.read_head(other)
            if found is not None and _ever_used(found[0]):
                return other
        return None

    def existing_model_names(self) -> list[str]:
        """Every model with a head (for case clashes and listings)."""
        return sorted(self.objects.list_folders("models/"))

    def version_number_taken(self, name: str, version: int) -> str | None:
        """Why ``version`` cannot be given to a new version of ``name``, or ``None``."""
        found = self.read_head(name)
        if found is not None and str(version) in found[0]["versions"]:
            return "already exists in this registry as a different version (another run id)"
        if (found is not None and version <= found[0]["max_deleted_version"]) or self.objects.get(
            record_key(name, version)
        ) is not None:
            return "was used in this registry before and deleted (version numbers are never reused)"
        return None

    # == resolve and read ======================================================================

    def resolve(self, model_identifier: str | ModelRef) -> tuple[str, int]:
        """``(name, version)`` an identifier points at: one request (the head)."""
        name, version, _ = self._resolve(model_identifier)
        return name, version

    def _resolve(self, model_identifier: str | ModelRef) -> tuple[str, int, dict[str, Any]]:
        ref = model_identifier if isinstance(model_identifier, ModelRef) else parse_identifier(model_identifier)
        if ref.kind == "run":
            return self._resolve_run(str(ref.value))
        assert ref.name is not None
        name = ref.name
        if ref.kind == "model":
            raise InvalidIdentifierError(
                f"{str(model_identifier)!r} names the model, not a version; use {name}/latest, {name}/VERSION, "
                f"{name}/STAGE or {name}@ALIAS",
                name=name,
            )
        head = self._require_head(name)
        found = _point(head, ref)
        if found is None:
            if ref.kind == "version":
                raise VersionNotFoundError(
                    f"model {name!r} has no version {ref.value}", name=name, version=int(str(ref.value))
                )
            what = {"latest": "no versions", "alias": f"no alias {ref.value!r}"}.get(
                ref.kind, f"no version in stage {ref.value}"
            )
            raise VersionNotFoundError(f"model {name!r} has {what}", name=name)
        return name, found, head

    def _resolve_run(self, run_id: str) -> tuple[str, int, dict[str, Any]]:
        for name in self.existing_model_names():  # no run map: run ids are in the heads
            found = self.read_head(name)
            head = found[0] if found is not None else {"versions": {}}
            for key, entry in head["versions"].items():
                if entry.get("run_id") == run_id:
                    return name, int(key), head
        raise ModelNotFoundError(f"no version was saved with run_id {run_id!r}")

    def require_model(self, name: str) -> None:
        self._require_head(name)

    def read_meta(self, name: str, version: int) -> records.VersionRecord:
        """A version's record with its state from the head (two requests)."""
        head = self._require_head(name)
        if str(version) not in head["versions"]:
            raise VersionNotFoundError(f"model {name!r} has no version {version}", name=name, version=version)
        return self.meta_from(name, version, head)

    def load_target(self, model_identifier: str | ModelRef) -> tuple[str, int, records.VersionRecord]:
        """``(name, version, meta)`` of the version an identifier names, from one head."""
        name, version, head = self._resolve(model_identifier)
        return name, version, self.meta_from(name, version, head)

    def meta_from(self, name: str, version: int, head: dict[str, Any]) -> records.VersionRecord:
        """A version's record (one request) with its state from ``head``."""
        where = f"{self.root}/{record_key(name, version)}"
        blob = self.objects.get(record_key(name, version))
        try:
            record = json.loads(blob.data) if blob is not None else None
        except (ValueError, RecursionError) as exc:
            raise CorruptRecordError(
                f"{where} is not valid JSON ({exc})", name=name, version=version, path=where
            ) from None
        if record is None or (isinstance(record, dict) and record.get("deleted") is True):
            raise VersionNotFoundError(f"{name}/{version} was deleted", name=name, version=version)
        entry = head["versions"].get(str(version)) or {}
        if isinstance(record, dict):
            record.update({key: entry[key] for key in _STATE if key in entry})
            record["stage_history"] = entry.get("stage_history") or []
        return records.parse_meta(record, where, name=name, version=version)

    @contextlib.contextmanager
    def deleted_meanwhile(self, name: str, version: int) -> Iterator[None]:
        """A read that a delete cuts short answers :class:`VersionNotFoundError`."""
        try:
            yield
        except Exception as exc:
            if isinstance(exc, (PickleRefusedError, VersionNotFoundError)):
                raise
            head = self.read_head(name)
            if head is not None and str(version) in head[0]["versions"]:
                raise
            raise VersionNotFoundError(
                f"{name}/{version} was deleted while it was being read", name=name, version=version
            ) from exc

    @contextlib.contextmanager
    def local_folder(self, name: str, version: int, meta: records.VersionRecord) -> Iterator[Path]:
        """The version's folder in the content cache (downloaded on first use), held for the
        ``with`` block so that no process evicts it meanwhile.  A file that fails its check
        there is evicted once no process holds the entry, so the next load downloads it again."""
        key = entry_key(meta.files)
        try:
            with self.cache.borrow(key, self._fetcher(name, version, meta)) as folder:
                yield folder
        except (IntegrityError, CorruptRegistryError, OSError) as exc:
            if isinstance(exc, CorruptRecordError):  # the record itself: the copy is not to blame
                raise
            # a file of the entry fails its check, or was removed, replaced by a link, a
            # folder or a FIFO: the local copy is damaged, never the stored version
            self.cache.evict(key)
            if isinstance(exc, IntegrityError):
                raise
            raise IntegrityError(
                f"the local copy of {name}/{version} in {self.cache.path(key)} is damaged ({exc}); it was removed, "
                "and the next load downloads the version again",
                name=name,
                version=version,
                path=str(self.cache.path(key)),
            ) from exc

    def folder_path(self, name: str, version: int, meta: records.VersionRecord) -> Path:
        """The version's folder in the content cache (downloaded if needed), for tools that
        read its files directly; a later eviction may remove it."""
        return self.cache.fill(entry_key(meta.files), self._fetcher(name, version, meta))

    def data_prefix_of(self, name: str, version: int, meta: records.VersionRecord) -> str:
        """Where the version's files are, as its record says: a data prefix of this very
        model (a record naming another model's data, or none, is
        :class:`~fsregistry.errors.CorruptRecordError`)."""
        prefix = meta.extra.get("data_prefix")
        if not isinstance(prefix, str) or not _DATA_PREFIX.fullmatch(prefix) or not prefix.startswith(f"data/{name}/"):
            where = f"{self.root}/{record_key(name, version)}"
            raise CorruptRecordError(
                f"{where} is malformed: field data_prefix is {prefix!r}",
                field="data_prefix",
                name=name,
                version=version,
                path=where,
            )
        return prefix

    def _fetcher(self, name: str, version: int, meta: records.VersionRecord) -> Callable[[Path], None]:
        """What downloads a version's files into a folder, all at once (from the data prefix
        its record names, checked first: a record never sends a download elsewhere)."""
        prefix = self.data_prefix_of(name, version, meta)

        def fetch(folder: Path) -> None:
            with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
                for done in [pool.submit(self.objects.download, prefix + rel, folder / rel) for rel in meta.files]:
                    done.result()

        return fetch

    def version_files(self, name: str, version: int) -> tuple[bytes, records.VersionRecord]:
        """A version's record as a bundle carries it (its state included, no storage keys)."""
        meta = self.read_meta(name, version)
        return _dumps({key: value for key, value in meta.to_json().items() if key != "data_prefix"}), meta

    # == listing ===============================================================================

    def list_versions(self, name: str, wanted: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every version of a model, newest first (one request)."""
        head = self._require_head(name)
        entries = [dict(head["versions"][k]) for k in sorted(head["versions"], key=int, reverse=True)]
        if wanted:
            entries = [e for e in entries if _has_tags(e.get("tags") or {}, wanted)]
        for entry in entries:
            entry.pop("stage_history", None)
            entry.pop("alias_history", None)
        return [records.version_view(name, e) for e in entries]

    def model_summaries(self, wanted: dict[str, str] | None = None) -> list[dict[str, Any]]:
        out = []
        for name in self.existing_model_names():
            summary = self.model_summary(name, wanted or {})
            if summary is not None:
                out.append(summary)
        return out

    def model_summary(self, name: str, wanted: dict[str, str]) -> dict[str, Any] | None:
        found = self.read_head(name)
        if found is None or not found[0]["versions"]:
            return None
        head = found[0]
        tags = dict(head.get("tags") or {})
        if (
            wanted
            and not _has_tags(tags, wanted)
            and not any(_has_tags(e.get("tags") or {}, wanted) for e in head["versions"].values())
        ):
            return None
        return {
            "name": name,
            "description": head.get("description") or "",
            "tags": tags,
            "created_at": head.get("created_at"),
            "updated_at": head.get("updated_at") or head.get("created_at"),
            "versions": len(head["versions"]),
            "latest_version": max(int(v) for v in head["versions"]),
            "stages": dict(head.get("stages") or {}),
            "aliases": dict(head.get("aliases") or {}),
        }

    # == stages, aliases, tags, descriptions ===================================================

    def transition(
        self, name: str, version: int, target: str | None, *, archive_existing: bool
    ) -> records.VersionRecord:
        """Move ``name/version`` to ``target``, displacing the previous holder."""
        now = utcnow()

        def change(head: dict[str, Any]) -> dict[str, Any]:
            _entry(head, name, version)
            _claim_stage(head, version, target, now, demote_to="Archived" if archive_existing else None)
            return head

        head = self._change_head(name, change)
        return self.meta_from(name, version, head)

    def set_alias(self, name: str, alias: str, version: int) -> None:
        now = utcnow()

        def change(head: dict[str, Any]) -> None:
            _entry(head, name, version)
            _claim_alias(head, version, alias, now)

        self._change_head(name, change)

    def delete_alias(self, name: str, alias: str) -> None:
        now = utcnow()

        def change(head: dict[str, Any]) -> None:
            holder = (head.get("aliases") or {}).pop(alias, None)
            if holder is None:
                raise VersionNotFoundError(f"model {name!r} has no alias {alias!r}", name=name)
            entry = head["versions"].get(str(holder))
            if entry is not None:
                claims.drop_alias(_Claims(entry, holder), alias, now)

        self._change_head(name, change)

    def update_model(self, name: str, change: Change) -> None:
        """Apply ``change`` to the model's own record (description, tags)."""

        def apply(head: dict[str, Any]) -> None:
            labels = _Labels(dict(head.get("tags") or {}), head.get("description") or "")
            change(labels)
            head["description"], head["tags"] = labels.description, dict(labels.tags)

        self._change_head(name, apply)

    def update_version(self, name: str, version: int, change: Change) -> None:
        """Apply ``change`` to a version's tags and description."""

        def apply(head: dict[str, Any]) -> None:
            entry = _entry(head, name, version)
            labels = _Labels(dict(entry.get("tags") or {}), entry.get("description") or "")
            change(labels)
            entry["tags"], entry["description"] = dict(labels.tags), labels.description

        self._change_head(name, apply)

    # == delete ================================================================================

    def delete(self, ref: ModelRef, force: bool) -> None:
        """Delete one version or, for a model reference, every version: out of the head
        first (invisible at once), then the data, then a tombstone keeps the number."""
        if ref.kind == "model":
            assert ref.name is not None
            name, versions, whole = ref.name, None, True
        else:
            name, version = self.resolve(ref)
            versions, whole = [version], False

        def change(head: dict[str, Any]) -> list[int]:
            doomed = [int(v) for v in head["versions"]] if versions is None else list(versions)
            for version in doomed:
                _entry(head, name, version)
                held = _held(head, version)
                if held and not force:
                    raise ProtectedVersionError(
                        f"{name}/{version} is protected ({held}); move the stage or alias first, or pass "
                        "force=True (CLI: --force)",
                        name=name,
                        version=version,
                    )
            for version in doomed:
                head["versions"].pop(str(version))
            head["stages"] = {s: v for s, v in (head.get("stages") or {}).items() if v not in doomed}
            head["aliases"] = {a: v for a, v in (head.get("aliases") or {}).items() if v not in doomed}
            head["max_deleted_version"] = max([head["max_deleted_version"], head["last_version"], *doomed])
            if whole:
                head["tags"], head["description"] = {}, ""
            return doomed

        for version in self._change_head(name, change):
            blob = self.objects.get(record_key(name, version))
            try:
                prefix = json.loads(blob.data).get("data_prefix") if blob is not None else None
            except (ValueError, AttributeError, RecursionError):
                prefix = None
            self.bury(name, version, prefix if isinstance(prefix, str) else None)


# -- the head: a model's record, its refs and its versions' summaries -----------------------------


def _ever_used(head: dict[str, Any]) -> bool:
    """Whether a save ever committed to the model (a repair may write the head of a model
    that never had a version, to order itself against a first save in flight)."""
    return bool(head["versions"] or head["last_version"] or head["max_deleted_version"])


def _new_head(name: str) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "name": name,
        "created_at": utcnow(),
        "description": "",
        "tags": {},
        "max_deleted_version": 0,
        "last_version": 0,
        "stages": {},
        "aliases": {},
        "versions": {},
    }


def _entry(head: dict[str, Any], name: str, version: int) -> dict[str, Any]:
    entry: dict[str, Any] | None = head["versions"].get(str(version))
    if entry is None:
        raise VersionNotFoundError(f"model {name!r} has no version {version}", name=name, version=version)
    return entry


def _add_version(
    head: dict[str, Any], meta: records.VersionRecord, stage: str | None, aliases: list[str], now: str
) -> None:
    version = meta.version
    swept = meta.extra.get("data_prefix") in head.get("swept", ())
    if version in head.get("buried", ()) or swept:
        what = "its uploaded files were removed as unreferenced" if swept else "it was removed as abandoned"
        raise ObjectStoreError(
            f"{meta.name}/{version}: {what} by a repair (check --repair --older-than) that ran while "
            "this save was still uploading; nothing was published: save again",
            name=meta.name,
            version=version,
        )
    head["versions"][str(version)] = records.summary(meta)
    head["last_version"] = max(head["last_version"], version)
    if stage is not None:
        _claim_stage(head, version, stage, now, demote_to="Archived")
    for alias in aliases:
        _claim_alias(head, version, alias, now)


def _claim_stage(head: dict[str, Any], version: int, target: str | None, now: str, demote_to: str | None) -> None:
    """Move ``version`` to ``target``; the version that held an exclusive ``target`` goes
    to ``demote_to``."""
    entry = head["versions"][str(version)]
    if entry.get("stage") == target:
        return
    stages = head.setdefault("stages", {})
    holder = stages.get(target) if target in EXCLUSIVE_STAGES else None
    _set_stage(entry, version, target, now)
    for stage, held_by in list(stages.items()):
        if held_by == version:
            del stages[stage]
    if target in EXCLUSIVE_STAGES:
        if holder is not None and holder != version and str(holder) in head["versions"]:
            _set_stage(head["versions"][str(holder)], holder, demote_to, now)
        stages[target] = version


def _set_stage(entry: dict[str, Any], version: int, stage: str | None, now: str) -> None:
    claims.set_stage(_Claims(entry, version), stage, now)
    entry["stage_changed_at"] = now


def _claim_alias(head: dict[str, Any], version: int, alias: str, now: str) -> None:
    aliases = head.setdefault("aliases", {})
    refuse_alias_twin(str(head["name"]), alias, aliases)  # inside the compare-and-swap
    owner = aliases.get(alias)
    if owner == version:
        return
    if owner is not None and str(owner) in head["versions"]:
        claims.drop_alias(_Claims(head["versions"][str(owner)], owner), alias, now)
    entry = head["versions"][str(version)]
    claims.add_alias(_Claims(entry, version), alias, now, 0)
    entry.pop("alias_seq", None)  # the head's compare-and-swap orders claims: no numbers needed
    aliases[alias] = version


@dataclass
class _Labels:
    """A model's or a version's tags and description, as a :data:`~fsregistry.store.opener.Change`
    sees them (the head holds both)."""

    tags: dict[str, str]
    description: str


class _Claims:
    """A version's entry in a head, as :mod:`fsregistry.records.claims` changes it (a
    :class:`~fsregistry.records.claims.ClaimHolder`): keys appear when first written, and
    claim orders, which the head's compare-and-swap makes unneeded, are left out."""

    def __init__(self, entry: dict[str, Any], version: int) -> None:
        self._entry = entry
        self.version = version

    @property
    def stage(self) -> str | None:
        return cast("str | None", self._entry.get("stage"))

    @stage.setter
    def stage(self, value: str | None) -> None:
        self._entry["stage"] = value

    @property
    def stage_seq(self) -> int:
        return 0

    @stage_seq.setter
    def stage_seq(self, value: int) -> None:
        self._entry.pop("stage_seq", None)

    @property
    def stage_history(self) -> list[Any]:
        return cast("list[Any]", self._entry.setdefault("stage_history", []))

    @property
    def aliases(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self._entry.setdefault("aliases", {}))

    @property
    def alias_seq(self) -> dict[str, int]:
        return {}

    @property
    def alias_history(self) -> list[Any]:
        return cast("list[Any]", self._entry.setdefault("alias_history", []))


def _point(head: dict[str, Any], ref: ModelRef) -> int | None:
    versions = head["versions"]
    if ref.kind == "version":
        return int(ref.value) if str(ref.value) in versions else None  # type: ignore[arg-type]
    if ref.kind == "latest":
        return max((int(v) for v in versions), default=None)
    # a holder the head does not list (an edited head) holds nothing: a version is either
    # found every way it is named, or not at all
    if ref.kind == "alias":
        holder = (head.get("aliases") or {}).get(str(ref.value))
        return holder if holder is not None and str(holder) in versions else None
    if ref.value in EXCLUSIVE_STAGES:
        holder = (head.get("stages") or {}).get(str(ref.value))
        return holder if holder is not None and str(holder) in versions else None
    archived = [(e.get("stage_changed_at", ""), int(v)) for v, e in versions.items() if e.get("stage") == ref.value]
    return max(archived)[1] if archived else None


def _held(head: dict[str, Any], version: int) -> str:
    held = [f"stage {stage}" for stage, holder in sorted((head.get("stages") or {}).items()) if holder == version]
    held += [f"alias {alias!r}" for alias, holder in sorted((head.get("aliases") or {}).items()) if holder == version]
    return ", ".join(held)


def _has_tags(tags: dict[str, Any], wanted: dict[str, str]) -> bool:
    return all(str(tags.get(k)) == v and k in tags for k, v in wanted.items())
