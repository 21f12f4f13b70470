"""What goes into a version folder and comes back out: ``model.bin`` and ``preprocessor.pkl``.

Writing serialises the model through its flavor and the preprocessor artifact with
cloudpickle, fsyncs and hashes both, and records what was written in the version's
``meta.json`` record.  Reading applies the pickle policy *before* opening anything, then
deserialises while verifying digests (see :mod:`fsregistry.storage.hashing`).  Nothing here
knows where the folder lives or how versions are numbered: that is the registry's job.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from ..errors import FlavorError, InvalidMetadataError, RegistryError
from ..flavors import Flavor, LoadOptions, SavedModel, class_path, get_flavor
from ..records.typed import FileDigests, VersionRecord
from ..storage import files, hashing, pickling
from ..storage.layout import MODEL_BIN, PREPROCESSOR_PKL


def write(
    folder: Path,
    model: Any,
    flavor: Flavor,
    preprocessor_artifact: Any,
    meta: VersionRecord,
    *,
    durable: bool = True,
    **flavor_kwargs: Any,
) -> None:
    """Serialise model and preprocessor into ``folder``, fsync and hash them, and fill
    ``meta``'s ``flavor``, ``model``, ``preprocessor``, ``files`` and ``environment``.

    ``durable=False`` hashes the files as always but flushes none of them to the disk:
    for a ``folder`` that is only a private staging place for files sent elsewhere (an
    object-storage save uploads them), where a flush would only wait for a local disk
    that nobody reads after a power cut."""
    saved, sealed = _write_model(folder / MODEL_BIN, model, flavor, meta.name, flavor_kwargs, durable=durable)
    meta.flavor = flavor.name
    meta.model = {
        "file": MODEL_BIN,
        "format": saved.format,
        "uses_pickle": saved.uses_pickle,
        "class": saved.model_class,
        "options": saved.options,
    }
    meta.files = {MODEL_BIN: cast(FileDigests, sealed)}
    meta.preprocessor = None
    if preprocessor_artifact is not None:
        with hashing.HashingWriter(folder / PREPROCESSOR_PKL, durable=durable) as out:
            try:
                pickling.write(preprocessor_artifact, out)
            except Exception as exc:
                _raise_write_error(out, exc)
                raise InvalidMetadataError(
                    f"the preprocessor artifact cannot be pickled: {exc}", name=meta.name
                ) from exc
            meta.files[PREPROCESSOR_PKL] = cast(FileDigests, out.seal())
        meta.preprocessor = {
            "file": PREPROCESSOR_PKL,
            "format": "cloudpickle",
            "uses_pickle": True,
            "class": class_path(preprocessor_artifact),
        }
    from ..records import environment  # importlib.metadata: only when a version is written

    meta.environment = environment.capture(flavor.packages)


def _write_model(
    path: Path, model: Any, flavor: Flavor, name: str, flavor_kwargs: dict[str, Any], *, durable: bool = True
) -> tuple[SavedModel, dict[str, Any]]:
    """Write ``model.bin`` through the flavor; return what it wrote and its sealed record
    (fsync'd unless not ``durable``).

    A flavor that can write to a stream (``stream_saver``) writes into a
    :class:`~fsregistry.storage.hashing.HashingWriter`, which hashes the bytes as they reach the
    file; otherwise the file is read back and hashed after the flavor has written it.
    """
    stream_saver = _stream_saver(flavor)
    with _flavor_errors(flavor, model, name):
        save_to = stream_saver(model, **flavor_kwargs) if stream_saver is not None else None
        if save_to is None:
            saved = _checked(flavor, flavor.save(model, path, **flavor_kwargs), name)
            if not files.exists(path):
                raise FlavorError(f"flavor {flavor.name!r} returned from save without writing {MODEL_BIN}", name=name)
    if save_to is None:
        return saved, hashing.seal_file(path, durable=durable)
    with hashing.HashingWriter(path, durable=durable) as out:
        with _flavor_errors(flavor, model, name, out):
            saved = _checked(flavor, save_to(out), name)
        return saved, out.seal()


def _checked(flavor: Flavor, saved: Any, name: str) -> SavedModel:
    """What a flavor's save returned, if it is a :class:`SavedModel` ``meta.json`` can hold."""
    if not isinstance(saved, SavedModel):
        raise FlavorError(
            f"flavor {flavor.name!r} returned {type(saved).__name__} from save, not a SavedModel", name=name
        )
    try:
        files.dumps_json(saved.options)
    except (TypeError, ValueError) as exc:
        raise FlavorError(f"flavor {flavor.name!r} returned options that are not JSON: {exc}", name=name) from exc
    return saved


def _stream_saver(flavor: Flavor) -> Callable[..., Any] | None:
    """The flavor's ``stream_saver``, unless a subclass overrides ``save`` below the class
    that defines it: a subclass of a built-in flavor that writes its own format has its own
    ``save`` called, one that overrides ``stream_saver`` (or both) has that called."""

    def owner(attr: str) -> type | None:
        return next((cls for cls in type(flavor).__mro__ if attr in vars(cls)), None)

    streams, saves = owner("stream_saver"), owner("save")
    if streams is None or saves is None or not issubclass(streams, saves):
        return None  # no stream_saver, or one that a subclass's own save overrides
    return cast(Any, flavor).stream_saver


#: errors that say the disk is full: passed on as they are, never as a flavor's failure
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


@contextlib.contextmanager
def _flavor_errors(flavor: Flavor, model: Any, name: str, out: hashing.HashingWriter | None = None) -> Iterator[None]:
    """A framework's own exception, raised while saving, as a :class:`FlavorError`; a full
    disk, or a failed write to ``out``, as the ``OSError`` it is."""
    try:
        yield
    except RegistryError:
        raise
    except Exception as exc:
        if out is not None:
            _raise_write_error(out, exc)
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:  # whoever noticed it
            raise
        raise FlavorError(f"flavor {flavor.name!r} could not save {class_path(model)}: {exc}", name=name) from exc


def _raise_write_error(out: hashing.HashingWriter, exc: BaseException) -> None:
    """When writing the file itself failed (disk full, say), raise that ``OSError``: not
    the serialiser's rendering of it (torch reports "unexpected pos"), nor a claim that the
    object cannot be saved."""
    if out.write_error is None:
        return
    if exc is out.write_error:
        raise exc
    raise out.write_error from exc


def saved_model(meta: VersionRecord) -> SavedModel:
    """The flavor's description of ``model.bin``, as recorded in ``meta.json``."""
    record = meta.model
    return SavedModel(
        format=record["format"],
        uses_pickle=record["uses_pickle"],
        model_class=record["class"],
        options=files.copy_json(record.get("options") or {}),  # the flavor's own: the record may be cached
    )


def recorded_code(meta: VersionRecord, flavor: Flavor) -> tuple[str, ...]:
    """What loading this version would import and call by a name stored in ``meta.json``
    (a torch factory, a class outside the framework), as the flavor reports it; such code
    runs only where pickle is allowed.  Empty for flavors that record none."""
    report = getattr(flavor, "recorded_code", None)
    return tuple(str(item) for item in report(saved_model(meta))) if callable(report) else ()


def refuse_pickle(
    folder: Path, meta: VersionRecord, flavor: Flavor, *, allow_pickle: bool, with_preprocessor: bool
) -> None:
    """Refuse, before anything is opened, a load that would unpickle.  The flavor has the
    last word: ``meta.json`` may come from an edited bundle and claim otherwise."""
    saved = saved_model(meta)
    if saved.uses_pickle or _flavor_unpickles(flavor, saved):
        pickling.refuse_if(not allow_pickle, f"model.bin ({saved.format})", folder / MODEL_BIN, meta.name)
    if with_preprocessor and meta.preprocessor:
        pickling.refuse_if(
            not allow_pickle,
            "preprocessor.pkl (pass with_preprocessor=False to skip it)",
            folder / PREPROCESSOR_PKL,
            meta.name,
        )


def load(
    folder: Path,
    meta: VersionRecord,
    options: LoadOptions,
    *,
    allow_pickle: bool,
    verify: hashing.Verify,
    with_preprocessor: bool,
) -> tuple[Any, Any]:
    """``(model, preprocessor_artifact)`` of the version in ``folder``: the pickle policy
    applied before anything is opened, a warning when the installed packages differ from
    those it was saved with, then :func:`read`."""
    flavor = get_flavor(meta.flavor)
    refuse_pickle(folder, meta, flavor, allow_pickle=allow_pickle, with_preprocessor=with_preprocessor)
    from ..records import environment

    what = f"model {meta.name}/{meta.version}"
    environment.warn_on_mismatch(meta.environment, what=what, stacklevel=5)
    return read(folder, meta, flavor, options, verify=verify, with_preprocessor=with_preprocessor)


def read(
    folder: Path,
    meta: VersionRecord,
    flavor: Flavor,
    options: LoadOptions,
    *,
    verify: hashing.Verify,
    with_preprocessor: bool,
) -> tuple[Any, Any]:
    """``(model, preprocessor_artifact)`` from ``folder``; hashes checked when ``verify``
    (see :func:`fsregistry.storage.hashing.load_verified`).
    The caller has applied :func:`refuse_pickle`."""
    name, version = meta.name, meta.version
    saved = saved_model(meta)
    path = folder / MODEL_BIN
    model = _read_one(path, meta, lambda: _flavor_load(flavor, path, saved, options, name, version), verify=verify)
    artifact = None
    if with_preprocessor and meta.preprocessor:
        artifact = _read_one(
            folder / PREPROCESSOR_PKL, meta, lambda: pickling.load(folder / PREPROCESSOR_PKL), verify=verify
        )
    return model, artifact


def _read_one(path: Path, meta: VersionRecord, load: Callable[[], Any], *, verify: hashing.Verify) -> Any:
    """Load one stored file, verified while loading (``"full"``: every byte hashed, even
    when this process checked the unchanged file before); unverified, a failed load is
    checked against the recorded hash afterwards, so a corrupt file is reported as corrupt
    rather than as whatever the deserialiser made of it (a missing module, a bad header...)."""
    name, version = meta.name, meta.version
    expected = meta.files.get(path.name)
    if verify is True and expected is not None and hashing.stamped(path, expected):
        # One ``lstat``: the very file this process read and hashed in full, unchanged
        # since (no write, no chmod, no rename onto it: each changes its change time or its
        # inode), so it is no link, has its recorded size, and can be read by this process.
        return load()
    files.require_readable(path)
    if verify:
        return hashing.load_verified(path, expected, load, name=name, version=version, full=verify == "full")
    try:
        return load()
    except Exception:
        if expected is not None:
            hashing.verify_file(path, expected, name=name, version=version)  # IntegrityError if corrupt
        raise


def _flavor_unpickles(flavor: Flavor, saved: SavedModel) -> bool:
    """What the flavor says about loading ``saved`` (flavors may define ``loads_with_pickle``)."""
    check = getattr(flavor, "loads_with_pickle", None)
    return bool(check(saved)) if callable(check) else False


def _flavor_load(flavor: Flavor, path: Path, saved: SavedModel, options: LoadOptions, name: str, version: int) -> Any:
    try:
        return flavor.load(path, saved, options)
    except RegistryError:
        raise
    except Exception as exc:
        raise FlavorError(
            f"flavor {flavor.name!r} could not load {name}/{version} ({saved.format}): {exc}",
            name=name,
            version=version,
            path=str(path),
        ) from exc
