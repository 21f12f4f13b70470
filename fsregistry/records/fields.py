"""The fields of every JSON record fsregistry reads, described once, and the one place a
record read from disk (or from a bundle) is checked against its description.

The records, and which of them is the truth:

* ``meta.json`` - a version's own record, **the truth** about that version;
* ``model.json`` - a model's own record, **the truth** for its description, tags and the
  highest deleted version number (``max_deleted_version``, the never-reuse floor);
* ``index.json`` and ``index-<K>.json`` - **caches** of what the ``meta.json`` files say;
* ``.runs/<RUN_ID>.json`` - the run map, a **cache**.

Each kind is a table of :class:`Field` rows (key, required or not, and a check of the
value), declared below; adding a field is adding a row.  :func:`parse_meta`,
:func:`parse_model_record`, :func:`parse_index`, :func:`parse_chunk` and
:func:`parse_run_entry` check a parsed JSON value against its table and return it
unchanged (keys no table names are kept: a newer writer's additions), or raise
:class:`~fsregistry.errors.CorruptRecordError` naming the file and the field.  The typed
records (:mod:`fsregistry.records.typed`) are built from what :func:`parse_meta`,
:func:`parse_model_record` and :func:`parse_index` return.

Why one place: readers used to index records directly, so an edited file gave a raw
``KeyError``/``TypeError`` deep inside a load, or silently dropped a version from listings
while it still loaded.  Now a record is valid for every reader or corrupt for every
reader, and ``check`` reports it with the same words a load raises.

Numbers are bounded (a version number fits :data:`MAX_VERSION`), free-form values (params,
flavor options, lineage) are bounded in nesting (:data:`MAX_NESTING`), and file names in
``files`` are plain names, so nothing read from a record can make a reader loop over a
huge range, recurse without end, or open a file outside its version folder.

It imports only the errors, the name rules and the storage layer's files and layout, so
the records and the store both use it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import reprlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, cast

from ..errors import CorruptRecordError, InvalidNameError
from ..names import EXCLUSIVE_STAGES, STAGES, validate_alias, validate_model_name
from ..storage import files
from ..storage.layout import MODEL_BIN, PREPROCESSOR_PKL, check_format, chunk_of

#: the highest version number a record may hold: the largest integer that every JSON
#: reader (JavaScript's included) holds exactly
MAX_VERSION = 2**53 - 1
#: the largest size a stored file may claim, in bytes
MAX_FILE_SIZE = 2**63 - 1
#: levels of nesting allowed in a free-form value (params, flavor options, lineage...);
#: saving refuses deeper metadata too (:func:`fsregistry.records.to_jsonable`)
MAX_NESTING = 100

#: a check of one value: returns, or raises :class:`_Invalid` (paths are built only then)
Check = Callable[[Any], None]

_RUN_ID = re.compile(r"[0-9a-f]{8,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60


class _Invalid(Exception):
    """One field breaks its description.  ``field`` is its path below the container
    being checked; each container prefixes its own part as the error passes through, so
    a valid record (the common case) never pays for building a path.  :func:`_parse`
    turns it into :class:`CorruptRecordError`, which knows the file."""

    def __init__(self, problem: str, field: str = "") -> None:
        super().__init__(problem, field)
        self.problem = problem
        self.field = field

    def within(self, part: str) -> _Invalid:
        """This error, one container further out (``part``: a key, or ``[...]``)."""
        if not self.field:
            self.field = part
        elif self.field.startswith("["):
            self.field = part + self.field
        else:
            self.field = f"{part}.{self.field}"
        return self


def _bad(problem: str, field: str = "") -> NoReturn:
    raise _Invalid(problem, field)


def _kind(value: Any) -> str:
    """The JSON name of ``value``'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# -- checks: small factories, each returning a Check ------------------------------------------

#: checks that only test a value's type: containers test ``type(value)`` (exact: JSON
#: gives ``bool``, never an ``int`` that is one) inline and call the check only when it
#: fails, to word the error - listing checks every entry of every index chunk
_PLAIN: dict[Check, frozenset[type]] = {}


def _plain(check: Check, *types: type) -> Check:
    _PLAIN[check] = frozenset(types)
    return check


def integer(low: int = 0, high: int = MAX_VERSION) -> Check:
    """An integer (never a boolean) in ``low..high``."""

    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            _bad(f"must be an integer, not {_kind(value)}")
        if not low <= value <= high:
            _bad(f"is {_short.repr(value)}, outside {low}..{high}")

    return check


def number() -> Check:
    """An integer or a floating-point number (NaN and infinities included: metrics may be)."""

    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _bad(f"must be a number, not {_kind(value)}")

    return _plain(check, int, float)


def boolean() -> Check:
    def check(value: Any) -> None:
        if not isinstance(value, bool):
            _bad(f"must be true or false, not {_kind(value)}")

    return _plain(check, bool)


def string(pattern: re.Pattern[str] | None = None, *, what: str = "") -> Check:
    """A string; with ``pattern``, one that matches it in full (``what`` says what it is)."""

    def check(value: Any) -> None:
        if not isinstance(value, str):
            _bad(f"must be a string, not {_kind(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            _bad(f"is {_short.repr(value)}, not {what or 'a valid value'}")

    return check if pattern is not None else _plain(check, str)


def timestamp() -> Check:
    """An ISO-8601 timestamp string (what every record stores; claims are ordered by it)."""

    def check(value: Any) -> None:
        if not isinstance(value, str):
            _bad(f"must be a timestamp string, not {_kind(value)}")
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            _bad(f"is {_short.repr(value)}, not an ISO-8601 timestamp")

    return check


def choice(*values: str) -> Check:
    """One of ``values`` exactly (records hold canonical spellings only)."""

    def check(value: Any) -> None:
        if not isinstance(value, str) or value not in values:
            _bad(f"is {_short.repr(value)}, not one of {', '.join(values)}")

    return check


def name_check(validate: Callable[[Any], Any], what: str) -> Check:
    """A name that ``validate`` (one of :mod:`fsregistry.names`' rules) accepts."""

    def check(value: Any) -> None:
        try:
            validate(value)
        except InvalidNameError:
            _bad(f"is {_short.repr(value)}, not a valid {what}")

    return check


def nullable(inner: Check) -> Check:
    """``null``, or what ``inner`` accepts."""

    def check(value: Any) -> None:
        if value is not None:
            inner(value)

    return _plain(check, *_PLAIN[inner], type(None)) if inner in _PLAIN else check


def any_of(*checks: Check, what: str) -> Check:
    """What any of ``checks`` accepts (``what`` describes them all, for the message)."""

    def check(value: Any) -> None:
        for inner in checks:
            try:
                inner(value)
                return
            except _Invalid:
                continue
        _bad(f"must be {what}, not {_short.repr(value)}")

    return check


def mapping(values: Check, keys: Check | None = None) -> Check:
    """A JSON object whose every value (and, with ``keys``, every key) passes."""
    plain = frozenset() if keys is not None else _PLAIN.get(values, frozenset())

    def check(value: Any) -> None:
        if not isinstance(value, dict):
            _bad(f"must be an object, not {_kind(value)}")
        for key, item in value.items():
            if type(item) in plain and type(key) is str:
                continue
            try:
                if not isinstance(key, str):
                    _bad("has a key that is not a string")
                if keys is not None:
                    keys(key)
                values(item)
            except _Invalid as bad:
                raise bad.within(f"[{key!r}]") from None

    return check


def list_of(item: Check) -> Check:
    def check(value: Any) -> None:
        if not isinstance(value, list):
            _bad(f"must be a list, not {_kind(value)}")
        for i, element in enumerate(value):
            try:
                item(element)
            except _Invalid as bad:
                raise bad.within(f"[{i}]") from None

    return check


def json_value(*, container: type | None = None) -> Check:
    """Any JSON value nested at most :data:`MAX_NESTING` deep (walked without recursion, so
    a hostile value cannot exhaust the stack); ``container=dict`` or ``list`` asks for one."""

    def check(value: Any) -> None:
        if container is not None and not isinstance(value, container):
            _bad(f"must be {_kind(container())}, not {_kind(value)}")
        pending: list[tuple[Any, int]] = [(value, 0)]
        while pending:
            item, depth = pending.pop()
            if depth > MAX_NESTING:
                _bad(f"is nested more than {MAX_NESTING} levels deep")
            if isinstance(item, dict):
                pending.extend((v, depth + 1) for v in item.values())
            elif isinstance(item, list):
                pending.extend((v, depth + 1) for v in item)

    return check


@dataclass(frozen=True)
class Field:
    """One field of a record: its key, whether it must be present, and its check."""

    key: str
    check: Check
    required: bool = False


def req(key: str, check: Check) -> Field:
    """A field every record of its kind has."""
    return Field(key, check, required=True)


def opt(key: str, check: Check) -> Field:
    """A field that may be absent (readers then use its default)."""
    return Field(key, check)


#: a rule about a whole record or object (fields that must agree with each other); it
#: raises :class:`_Invalid` with the path of the field to blame, relative to that object
Rule = Callable[[dict[str, Any]], None]


#: stands for a key a record does not have
_ABSENT = object()
_FREE_FORM = json_value()


#: a field table as plain tuples: ``(key, check, required, types that pass outright)``
_Compiled = tuple[tuple[str, Check, bool, frozenset[type]], ...]


def _compile(fields: tuple[Field, ...]) -> _Compiled:
    return tuple((f.key, f.check, f.required, _PLAIN.get(f.check, frozenset())) for f in fields)


def _check_fields(fields: _Compiled, record: dict[str, Any]) -> None:
    for key, check, required, types in fields:
        value = record.get(key, _ABSENT)
        if type(value) in types:
            continue
        if value is _ABSENT:
            if required:
                _bad("is missing", key)
            continue
        try:
            check(value)
        except _Invalid as bad:
            raise bad.within(key) from None


def _check_unknown(known: frozenset[str], record: dict[str, Any]) -> None:
    """Keys no table names are kept (a newer writer's), but bounded in nesting like any
    free-form value: every value in a record is then either checked or bounded."""
    extra = record.keys() - known
    for key in extra:
        try:
            _FREE_FORM(record[key])
        except _Invalid as bad:
            raise bad.within(key) from None


def obj(*fields: Field, rule: Rule | None = None) -> Check:
    """A JSON object with these fields (others are kept), and an optional ``rule`` on it."""
    compiled = _compile(fields)
    known = frozenset(f.key for f in fields)

    def check(value: Any) -> None:
        if not isinstance(value, dict):
            _bad(f"must be an object, not {_kind(value)}")
        _check_fields(compiled, value)
        _check_unknown(known, value)
        if rule is not None:
            rule(value)

    return check


# -- meta.json ----------------------------------------------------------------------------------

STAGE = nullable(choice(*STAGES))
VERSION = integer(1, MAX_VERSION)
#: an alias's claim: the time it was set, or (claims with an order) ``{"at", "seq"}``
ALIAS_CLAIM = any_of(
    timestamp(),
    obj(req("at", timestamp()), opt("seq", integer(0, MAX_VERSION))),
    what='a timestamp or {"at": timestamp, "seq": integer}',
)
TAGS = mapping(string())
#: who made a change: the operating-system user and host, each ``null`` when unreadable
ACTOR = obj(opt("user", nullable(string())), opt("host", nullable(string())))
_FILE_NAME = re.compile(r"(?!\.\.?$)[^/\\\x00]+")


def _example_shape(example: dict[str, Any]) -> None:
    """Columns, dtypes and every row agree in length (decoding zips them strictly)."""
    width = len(example["columns"])
    if len(example["dtypes"]) != width:
        _bad(f"has {len(example['dtypes'])} entries for {width} columns", "dtypes")
    for i, row in enumerate(example["data"]):
        if len(row) != width:
            _bad(f"has {len(row)} cells for {width} columns", f"data[{i}]")


def _payload_files(meta: dict[str, Any]) -> None:
    """The files a load opens are recorded, so they are always verified."""
    if MODEL_BIN not in meta["files"]:
        _bad(f"does not record {MODEL_BIN}", "files")
    if meta.get("preprocessor") is not None and PREPROCESSOR_PKL not in meta["files"]:
        _bad(f"does not record {PREPROCESSOR_PKL}, though preprocessor is set", "files")


META_FIELDS: tuple[Field, ...] = (
    # identity and payload: written once, at publish
    req("name", string()),
    req("version", VERSION),
    req("run_id", string(_RUN_ID, what="a run id (8 to 64 lowercase hexadecimal digits)")),
    req("created_at", timestamp()),
    req("flavor", string()),
    req(
        "model",
        obj(
            req("format", string()),
            req("class", string()),
            req("uses_pickle", boolean()),
            opt("options", json_value(container=dict)),
            opt("file", string()),
        ),
    ),
    req(
        "files",
        mapping(
            obj(
                req("sha256", string(_SHA256, what="a SHA-256 hex digest")),
                req("size", integer(0, MAX_FILE_SIZE)),
                # written where the blake3 package is installed; loads check it when present
                opt("blake3", string(_SHA256, what="a BLAKE3 hex digest (64 hex digits)")),
            ),
            keys=string(_FILE_NAME, what="a plain file name"),
        ),
    ),
    opt(
        "preprocessor",
        nullable(
            obj(opt("class", string()), opt("format", string()), opt("uses_pickle", boolean()), opt("file", string()))
        ),
    ),
    opt("params", json_value(container=dict)),
    opt("metrics", mapping(number())),
    opt(
        "signature",
        nullable(
            obj(
                req(
                    "inputs",
                    list_of(
                        obj(
                            req("name", string()),
                            req("dtype", string()),
                            req("kind", string()),
                            opt("categories", nullable(json_value(container=list))),
                            opt("ordered", boolean()),
                        )
                    ),
                ),
                opt("input_type", choice("dataframe", "ndarray")),
                opt(
                    "output",
                    obj(
                        opt("kind", nullable(string())),
                        opt("classes", nullable(json_value(container=list))),
                        opt("class_order", nullable(string())),
                    ),
                ),
            )
        ),
    ),
    opt(
        "input_example",
        nullable(
            obj(
                opt("type", choice("dataframe", "ndarray")),
                req("columns", list_of(string())),
                req("dtypes", list_of(string())),
                req("data", list_of(json_value(container=list))),
                rule=_example_shape,
            )
        ),
    ),
    opt(
        "environment",
        obj(opt("packages", mapping(nullable(string())))),
    ),
    opt("source", nullable(json_value(container=dict))),
    # state: rewritten under the write lock when it changes
    opt("stage", STAGE),
    opt(
        "stage_history",
        list_of(obj(req("stage", STAGE), opt("from", STAGE), req("at", timestamp()), opt("by", ACTOR))),
    ),
    opt(
        "alias_history",
        list_of(
            obj(
                req("alias", string()),
                req("action", choice("set", "removed")),
                req("at", timestamp()),
                opt("by", ACTOR),
            )
        ),
    ),
    opt("created_by", ACTOR),
    # the order of this version's stage and alias claims (see fsregistry.records.claims)
    opt("stage_seq", integer(0, MAX_VERSION)),
    opt("aliases", mapping(ALIAS_CLAIM, keys=name_check(validate_alias, "alias"))),
    opt("alias_seq", mapping(integer(0, MAX_VERSION), keys=name_check(validate_alias, "alias"))),
    opt("tags", TAGS),
    opt("description", string()),
)


# -- model.json, the run map, index.json, index-<K>.json ---------------------------------------

MODEL_FIELDS: tuple[Field, ...] = (
    req("name", string()),
    opt("created_at", nullable(string())),
    opt("description", string()),
    opt("tags", TAGS),
    # the never-reuse floor: required, so a record that lost it is repaired, not trusted
    req("max_deleted_version", integer(0, MAX_VERSION)),
)

RUN_FIELDS: tuple[Field, ...] = (
    req("name", name_check(validate_model_name, "model name")),
    req("version", VERSION),
)

INDEX_FIELDS: tuple[Field, ...] = (
    req("name", string()),
    req("last_version", integer(0, MAX_VERSION)),
    opt("latest", nullable(VERSION)),
    opt("count", integer(0, MAX_VERSION)),
    opt("stages", mapping(VERSION, keys=choice(*EXCLUSIVE_STAGES))),
    opt("aliases", mapping(VERSION, keys=name_check(validate_alias, "alias"))),
    opt("updated_at", nullable(string())),
    opt("indexed_through", integer(0, MAX_VERSION)),
    # the last claim order number handed out, and the last whose change completed
    opt("claim_seq", integer(0, MAX_VERSION)),
    opt("applied_seq", integer(0, MAX_VERSION)),
)

#: a version's summary in a chunk: what listing shows (see :func:`fsregistry.records.summary`)
SUMMARY_FIELDS: tuple[Field, ...] = (
    req("version", VERSION),
    req("run_id", string()),
    req("created_at", string()),
    opt("stage", STAGE),
    opt("stage_changed_at", string()),
    opt("stage_seq", integer(0, MAX_VERSION)),
    opt("aliases", mapping(ALIAS_CLAIM)),
    opt("alias_seq", mapping(integer(0, MAX_VERSION))),
    opt("tags", TAGS),
    opt("description", string()),
    opt("flavor", nullable(string())),
    opt("model_class", nullable(string())),
    opt("size", integer(0, MAX_FILE_SIZE)),
    opt("metrics", mapping(number())),
    opt("has_preprocessor", boolean()),
)

CHUNK_FIELDS: tuple[Field, ...] = (
    req("name", string()),
    req("versions", mapping(obj(*SUMMARY_FIELDS), keys=string(re.compile(r"[1-9][0-9]{0,15}"), what="a version"))),
)


#: a model's head on object storage (fsregistry.store.objects): the model's record, who holds
#: each stage and alias, and every live version's summary with its stage and alias history
_HISTORIES: tuple[Field, ...] = tuple(f for f in META_FIELDS if f.key in ("stage_history", "alias_history"))
HEAD_FIELDS: tuple[Field, ...] = (
    *MODEL_FIELDS,
    req("last_version", integer(0, MAX_VERSION)),
    opt("updated_at", nullable(string())),
    opt("stages", mapping(VERSION, keys=choice(*EXCLUSIVE_STAGES))),
    opt("aliases", mapping(VERSION, keys=name_check(validate_alias, "alias"))),
    # tokens of the last writes, to recognise a write whose reply was lost
    opt("writes", list_of(string())),
    # numbers a repair removed as abandoned: a save still running with one of them fails
    opt("buried", list_of(VERSION)),
    # data prefixes a repair removed as unreferenced: a save still running that uploaded
    # to one of them fails
    opt("swept", list_of(string(re.compile(r"data/[^/]+/[0-9a-f]{32}/"), what="a data prefix"))),
    req(
        "versions",
        mapping(obj(*SUMMARY_FIELDS, *_HISTORIES), keys=string(re.compile(r"[1-9][0-9]{0,15}"), what="a version")),
    ),
)


def _index_bounds(refs: dict[str, Any]) -> None:
    """Every number the refs name was allocated, so none is above ``last_version``."""
    last = refs["last_version"]
    if refs.get("latest") is not None and refs["latest"] > last:
        _bad(f"is {refs['latest']}, above last_version {last}", "latest")
    if refs.get("count", 0) > last:
        _bad(f"is {refs['count']}, more than last_version {last} versions", "count")
    for table in ("stages", "aliases"):
        for key, version in (refs.get(table) or {}).items():
            if version > last:
                _bad(f"is {version}, above last_version {last}", f"{table}[{key!r}]")


# -- parsing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordKind:
    """How to check one kind of record, and what to tell a reader of a bad one."""

    fields: tuple[Field, ...]
    #: appended to the message: what fixes it
    hint: str
    #: has a ``format`` field, checked first (a newer format is refused, not judged)
    versioned: bool = False
    rule: Rule | None = None

    @functools.cached_property
    def compiled(self) -> _Compiled:
        """The table as plain tuples, made once: every read of every record uses it."""
        return _compile(self.fields)

    @functools.cached_property
    def known(self) -> frozenset[str]:
        return frozenset(f.key for f in self.fields) | {"format"}


META = RecordKind(META_FIELDS, "; run check()", versioned=True, rule=_payload_files)
MODEL = RecordKind(MODEL_FIELDS, "; run check(repair=True)")
RUN = RecordKind(RUN_FIELDS, "; run check(repair=True)")
INDEX = RecordKind(INDEX_FIELDS, "; run check(repair=True)", versioned=True, rule=_index_bounds)
CHUNK = RecordKind(CHUNK_FIELDS, "; run check(repair=True)", versioned=True)


def _head_bounds(head: dict[str, Any]) -> None:
    """The refs' bounds, and every version summary filed under its own number."""
    _index_bounds(head)
    for key, entry in head["versions"].items():
        if "version" in entry and entry["version"] != int(key):
            _bad(f"describes version {entry['version']}", f"versions[{key!r}]")


HEAD = RecordKind(HEAD_FIELDS, "; run check(repair=True)", versioned=True, rule=_head_bounds)


def _parse(
    kind: RecordKind,
    raw: Any,
    path: Path | str,
    *,
    expect: dict[str, Any] | None = None,
    name: str | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    """``raw`` checked against ``kind``; ``expect`` names fields that must hold given values
    (a record must describe the file it is in)."""
    where = str(path)

    def corrupt(message: str, field: str | None) -> CorruptRecordError:
        return CorruptRecordError(message + kind.hint, field=field, name=name, version=version, path=where)

    if not isinstance(raw, dict):
        raise corrupt(f"{where} is malformed: it holds {_kind(raw)}, not a JSON object", None)
    try:
        if kind.versioned:
            try:
                integer(1, MAX_VERSION)(raw.get("format"))
            except _Invalid as bad:
                raise bad.within("format") from None
            check_format(raw["format"], where)  # a newer format: FormatVersionError
        _check_fields(kind.compiled, raw)
        _check_unknown(kind.known, raw)
        for key, wanted in (expect or {}).items():
            if raw[key] != wanted:
                _bad(f"is {_short.repr(raw[key])}, but the file belongs to {wanted!r}", key)
        if kind.rule is not None:
            kind.rule(raw)
    except _Invalid as bad:
        raise corrupt(f"{where} is malformed: field {bad.field} {bad.problem}", bad.field) from None
    return raw


#: digests of records already checked in this process, with the path and kind they were
#: checked as: the same bytes at the same path need no second field-by-field check (a
#: listing or a resolve reads the same small files again and again); bounded, oldest first
_CHECKED: OrderedDict[tuple[str, str, bytes], None] = OrderedDict()
_CHECKED_MAX = 8192


def read_checked(
    path: Path, parse: Callable[[Any], dict[str, Any]], what: str, *, shared: bool = False
) -> dict[str, Any]:
    """Read the record at ``path`` and check it with ``parse``, unless exactly these bytes
    were checked at this path before in this process (the digest of what was parsed
    decides: an edit is always seen).  ``shared=True``: the caller only reads the record,
    and may get the object :func:`~fsregistry.storage.files.read_json_digest` keeps."""
    raw, digest = files.read_json_digest(path, shared=shared)
    key = (str(path), what, digest)
    if key in _CHECKED:
        return cast(dict[str, Any], raw)
    checked = parse(raw)
    _CHECKED[key] = None
    if len(_CHECKED) > _CHECKED_MAX:
        _CHECKED.popitem(last=False)
    return checked


def meta_problem(raw: dict[str, Any]) -> tuple[str, str] | None:
    """``(field, problem)`` for the first field of a would-be ``meta.json`` that its
    description rejects, ``None`` when every reader would accept it (a save checks the
    record it is about to publish, so it never writes what it cannot read back)."""
    try:
        _check_fields(META.compiled, raw)
        _check_unknown(META.known, raw)
        if META.rule is not None:
            META.rule(raw)
    except _Invalid as bad:
        return bad.field, bad.problem
    return None


def mark_checked(path: Path, what: str, digest: bytes) -> None:
    """Remember a record this process has just written as checked (``digest``:
    :func:`~fsregistry.storage.files.record_digest` of its bytes): reading those bytes back
    at ``path`` then costs no field-by-field check.  Only for records that passed their
    check (a new version's, :func:`meta_problem`) or were built by the store from checked
    parts and validated arguments (a stage, alias, tag or description change; the refs; an
    index chunk built from checked summaries)."""
    _CHECKED[(str(path), what, digest)] = None
    if len(_CHECKED) > _CHECKED_MAX:
        _CHECKED.popitem(last=False)


def parse_meta(raw: Any, path: Path | str, *, name: str | None = None, version: int | None = None) -> dict[str, Any]:
    """A version's ``meta.json``, checked; ``name``/``version`` (the folder it was read
    from) must match what it describes."""
    expect: dict[str, Any] = {}
    if name is not None:
        expect["name"] = name
    if version is not None:
        expect["version"] = version
    return _parse(META, raw, path, expect=expect, name=name, version=version)


def parse_head(raw: Any, where: str, *, name: str) -> dict[str, Any]:
    """A model's head on object storage, checked (see :data:`HEAD_FIELDS`)."""
    return _parse(HEAD, raw, where, expect={"name": name}, name=name)


def parse_model_record(raw: Any, path: Path | str, *, name: str | None = None) -> dict[str, Any]:
    """A model's ``model.json``, checked; ``name`` (the folder it was read from) must be
    the model it describes, or a write would go to another model's folder."""
    return _parse(MODEL, raw, path, expect={"name": name} if name is not None else None, name=name)


def salvage_model_record(raw: Any) -> dict[str, Any]:
    """The fields of a ``model.json`` that pass their checks, even when others do not:
    repair keeps them (a record broken in its tags still holds its never-reuse floor)."""
    return _salvage(MODEL_FIELDS, raw)


def salvage_meta(raw: Any) -> dict[str, Any]:
    """The fields of a ``meta.json`` that pass their checks, even when others do not: what
    deleting a corrupt version needs (its stage, aliases and run id) without trusting the rest."""
    return _salvage(META_FIELDS, raw)


def _salvage(fields: tuple[Field, ...], raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    out = {}
    for spec in fields:
        if spec.key in raw:
            try:
                spec.check(raw[spec.key])
            except _Invalid:
                continue
            out[spec.key] = raw[spec.key]
    return out


def parse_run_entry(raw: Any, path: Path | str) -> dict[str, Any]:
    """One run-map entry (``{"name", "version"}``), checked."""
    return _parse(RUN, raw, path)


def parse_index(raw: Any, path: Path | str, *, name: str) -> dict[str, Any]:
    """A model's ``index.json`` (its refs), checked: it must be ``name``'s, and name no
    version above its own ``last_version``."""
    return _parse(INDEX, raw, path, expect={"name": name}, name=name)


def parse_chunk(raw: Any, path: Path | str, *, name: str, chunk: int) -> dict[str, Any]:
    """One ``index-<chunk>.json``, checked: it must be ``name``'s, and every entry must sit
    in this chunk under its own version number."""
    record = _parse(CHUNK, raw, path, expect={"name": name}, name=name)
    for key, entry in record["versions"].items():
        number = int(key)
        if chunk_of(number) != chunk or entry["version"] != number:
            raise CorruptRecordError(
                f"{path} is malformed: field versions[{key!r}] does not belong in chunk {chunk} "
                f"(it holds version {entry['version']}){CHUNK.hint}",
                field=f"versions[{key!r}]",
                name=name,
                path=str(path),
            )
    return record
