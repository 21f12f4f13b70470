"""The typed records: a version's ``meta.json`` (:class:`VersionRecord`), a model's
``model.json`` (:class:`ModelRecord`) and its ``index.json`` (:class:`Refs`), as dataclasses.

Every record read from storage or a bundle is checked against its field table
(:mod:`fsregistry.records.fields`) and then built here, so code above this layer reads
attributes with known types instead of indexing a dict.  ``to_json`` is the one way a
record becomes JSON again.

Three rules keep the format stable:

* **Unknown keys are kept.**  A key no table names (a newer minor writer's) lands in
  ``extra`` and is written back unchanged, so rewriting a record (a stage change, a tag)
  never drops what a newer writer added.  Nested objects (a file's digests, the payload's
  description, the signature...) stay JSON objects, typed here as :class:`TypedDict`, so
  their unknown keys are kept as they are.
* **Absent means default.**  An optional field that a record lacks reads as its default
  (``None``, empty, ``0``).  ``to_json`` writes every field except the few whose absence
  older writers relied on (``created_by`` when unknown, and claim orders, alias history
  when empty); the field tables accept both forms, so readers of format 1 see no change.
* **Read-only nested values may be shared.**  A record built from a cached read shares
  its free-form values (params, metrics, signature, environment...) with that cache; only
  the containers a writer changes (stage and alias state, tags, files) are copied.  Code
  that changes a record assigns new values or changes those containers, never anything
  nested deeper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from ..storage.layout import FORMAT_VERSION


class _Digests(TypedDict):
    sha256: str
    size: int


class FileDigests(_Digests, total=False):
    """A stored file's entry in ``files``: its size and digests (BLAKE3 where the writer
    had the ``blake3`` package)."""

    blake3: str


#: the required part of ``model`` (``class`` is a keyword, hence this form)
_Payload = TypedDict("_Payload", {"format": str, "class": str, "uses_pickle": bool})


class PayloadInfo(_Payload, total=False):
    """What a flavor wrote to ``model.bin``, under ``model``: its format, the model's
    class, whether loading it unpickles, and the flavor's options."""

    options: dict[str, Any]
    file: str


class Actor(TypedDict, total=False):
    """Who made a change: the operating-system user and host (``None`` when unreadable)."""

    user: str | None
    host: str | None


class StageEvent(TypedDict, total=False):
    stage: str | None
    at: str
    by: Actor


class AliasEvent(TypedDict, total=False):
    alias: str
    action: str
    at: str
    by: Actor


#: the fields of :class:`VersionRecord` in the order ``meta.json`` writes them
_META_KEYS = (
    "format",
    "name",
    "version",
    "run_id",
    "created_at",
    "created_by",
    "flavor",
    "model",
    "files",
    "preprocessor",
    "params",
    "metrics",
    "signature",
    "input_example",
    "environment",
    "source",
    "stage",
    "stage_seq",
    "stage_history",
    "aliases",
    "alias_seq",
    "alias_history",
    "tags",
    "description",
)
_META_KNOWN = frozenset(_META_KEYS)
#: optional fields left out of ``meta.json`` while they hold their default (older writers
#: never wrote them, and ``created_by`` may not be ``null``)
_OMITTED_WHEN_DEFAULT = ("created_by", "stage_seq", "alias_seq", "alias_history")


@dataclass(slots=True, eq=True)
class VersionRecord:
    """A version's ``meta.json``: the truth about that version.

    Identity and payload fields are set once, when the version is published
    (``version`` is 0 and ``flavor``/``model``/``files`` empty until the store and the
    payload writer fill them in); the state fields (stage, aliases, their orders and
    histories, tags, description) change under the write lock.
    """

    name: str
    run_id: str
    created_at: str
    version: int = 0
    flavor: str = ""
    model: PayloadInfo = field(
        default_factory=lambda: cast(PayloadInfo, {"format": "", "class": "", "uses_pickle": False})
    )
    files: dict[str, FileDigests] = field(default_factory=dict)
    preprocessor: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, int | float] = field(default_factory=dict)
    signature: dict[str, Any] | None = None
    input_example: dict[str, Any] | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    #: where an imported version came from (see fsregistry.bundle), else ``None``
    source: dict[str, Any] | None = None
    created_by: Actor | None = None
    stage: str | None = None
    #: the order of this version's stage claim, and of each alias claim (records.claims)
    stage_seq: int = 0
    stage_history: list[StageEvent] = field(default_factory=list)
    #: alias -> when it was set (or ``{"at", "seq"}`` from some writers)
    aliases: dict[str, Any] = field(default_factory=dict)
    alias_seq: dict[str, int] = field(default_factory=dict)
    alias_history: list[AliasEvent] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    format: int = FORMAT_VERSION
    #: keys no field names (a newer writer's), written back unchanged
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> VersionRecord:
        """A record from a ``meta.json`` already checked against its field table
        (:func:`fsregistry.records.fields.parse_meta`); the containers a writer changes
        are copied, so ``raw`` may be a cached object."""
        get = raw.get
        record = cls(
            name=raw["name"],
            run_id=raw["run_id"],
            created_at=raw["created_at"],
            version=raw["version"],
            flavor=raw["flavor"],
            model=raw["model"],
            files=dict(raw["files"]),
            preprocessor=get("preprocessor"),
            params=get("params") or {},
            metrics=get("metrics") or {},
            signature=get("signature"),
            input_example=get("input_example"),
            environment=get("environment") or {},
            source=get("source"),
            created_by=get("created_by"),
            stage=get("stage"),
            stage_seq=get("stage_seq") or 0,
            stage_history=list(get("stage_history") or ()),
            aliases=dict(get("aliases") or ()),
            alias_seq=dict(get("alias_seq") or ()),
            alias_history=list(get("alias_history") or ()),
            tags=dict(get("tags") or ()),
            description=get("description") or "",
            format=get("format", FORMAT_VERSION),
        )
        if not raw.keys() <= _META_KNOWN:
            record.extra = {key: value for key, value in raw.items() if key not in _META_KNOWN}
        return record

    def to_json(self) -> dict[str, Any]:
        """The record as ``meta.json`` holds it (unknown keys last, unchanged)."""
        out = {key: getattr(self, key) for key in _META_KEYS}
        for key in _OMITTED_WHEN_DEFAULT:
            if not out[key]:
                del out[key]
        out.update(self.extra)
        return out

    # -- derived views (what listings and the public dicts show) --

    @property
    def size(self) -> int:
        """Bytes of every stored file together."""
        return sum(int(f.get("size", 0)) for f in self.files.values())

    @property
    def model_class(self) -> str | None:
        return self.model.get("class")

    @property
    def model_format(self) -> str | None:
        return self.model.get("format")

    @property
    def has_preprocessor(self) -> bool:
        return self.preprocessor is not None

    @property
    def stage_changed_at(self) -> str:
        """When the stage last changed (when the version was made, if it never did)."""
        return str(self.stage_history[-1]["at"]) if self.stage_history else self.created_at


_MODEL_KEYS = ("name", "created_at", "description", "tags", "max_deleted_version")
_MODEL_KNOWN = frozenset(_MODEL_KEYS)


@dataclass(slots=True, eq=True)
class ModelRecord:
    """A model's ``model.json``: the truth for its description, tags and the highest
    deleted version number (``max_deleted_version``, the floor below which no number is
    handed out again)."""

    name: str
    created_at: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    max_deleted_version: int = 0
    #: keys no field names (a newer writer's), written back unchanged
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ModelRecord:
        """A record from a ``model.json`` checked against its field table (or the fields
        of one that a repair salvaged); the tags are copied."""
        return cls(
            name=raw["name"],
            created_at=raw.get("created_at"),
            description=raw.get("description") or "",
            tags=dict(raw.get("tags") or ()),
            max_deleted_version=int(raw.get("max_deleted_version") or 0),
            extra={key: value for key, value in raw.items() if key not in _MODEL_KNOWN},
        )

    def to_json(self) -> dict[str, Any]:
        """The record as ``model.json`` holds it (unknown keys last, unchanged)."""
        out = {key: getattr(self, key) for key in _MODEL_KEYS}
        out.update(self.extra)
        return out


_REFS_KNOWN = frozenset(
    (
        "format",
        "name",
        "last_version",
        "latest",
        "count",
        "stages",
        "aliases",
        "updated_at",
        "indexed_through",
        "claim_seq",
        "applied_seq",
    )
)


@dataclass
class Refs:
    """A model's ``index.json``: its refs (a cache of what the versions' ``meta.json`` say,
    see :mod:`fsregistry.store.index`)."""

    name: str
    last_version: int = 0
    latest: int | None = None
    count: int = 0
    stages: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    #: when the index last changed (a save, stage, alias, tag or delete)
    updated_at: str | None = None
    #: the chunks hold every version up to this one; those above are the tail
    indexed_through: int = 0
    #: the last order number handed to a stage or alias claim (see fsregistry.records.claims),
    #: written before the claim; and the last one whose change reached the index.  They
    #: differ only while a change is under way, or after its writer died: the next
    #: writer then settles the model's claims.
    claim_seq: int = 0
    applied_seq: int = 0
    #: read from an ``index.json`` without ``indexed_through`` (an older writer's): its
    #: chunks should hold every version, and a writer checks that they do
    legacy: bool = field(default=False, compare=False, repr=False)
    #: keys no field names (a newer writer's), written back unchanged
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "name": self.name,
            "last_version": self.last_version,
            "latest": self.latest,
            "count": self.count,
            "stages": self.stages,
            "aliases": self.aliases,
            "updated_at": self.updated_at,
            "indexed_through": self.indexed_through,
            "claim_seq": self.claim_seq,
            "applied_seq": self.applied_seq,
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Refs:
        """Refs from an ``index.json`` checked against its field table
        (:func:`fsregistry.records.fields.parse_index`)."""
        last_version = int(data.get("last_version") or 0)
        through = data.get("indexed_through")
        return cls(
            name=str(data["name"]),
            last_version=last_version,
            latest=data.get("latest"),
            count=int(data.get("count") or 0),
            stages={str(k): int(v) for k, v in (data.get("stages") or {}).items()},
            aliases={str(k): int(v) for k, v in (data.get("aliases") or {}).items()},
            updated_at=data.get("updated_at"),
            # absent in indexes written before the tail existed: everything is in chunks
            indexed_through=last_version if through is None else min(int(through), last_version),
            legacy=through is None,
            claim_seq=int(data.get("claim_seq") or 0),
            applied_seq=int(data.get("applied_seq") or 0),
            extra={key: value for key, value in data.items() if key not in _REFS_KNOWN},
        )

    @property
    def claims_pending(self) -> bool:
        """A stage or alias change took an order number and has not reached the index."""
        return self.claim_seq != self.applied_seq
