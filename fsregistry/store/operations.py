"""The registry's operations that take more than one call to the store.

A save (describe the version, choose its flavor, write the payload into a staging folder,
check the record readers will read, publish it, clean up), a load (refuse pickle before a
byte is read, fetch the version's local folder, read the payload, build the returned dict),
stage transitions, setting and removing aliases, the changes to a model's or a version's
tags and description, and the model summary.  Each function takes the
:class:`~fsregistry.store.opener.Store` and plain arguments, so one copy serves a folder
and object storage alike.  :class:`~fsregistry.registry.CustomModelRegistry` checks the
arguments it is given, reports errors and logs, and calls these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import records
from ..errors import InvalidArgumentError, InvalidIdentifierError, ModelNotFoundError
from ..flavors import LoadOptions, detect_flavor, get_flavor
from ..identifiers import parse_identifier
from ..names import StageName, normalize_stage, refuse_alias_twin, require_aliases, validate_tags
from ..storage import files, hashing
from . import payload
from .opener import Change, Store


def save(
    store: Store,
    name: str,
    model: Any,
    preprocessor_artifact: Any,
    *,
    signature: Any,
    input_example: Any,
    metadata: dict[str, Any] | None,
    tags: dict[str, Any] | None,
    params: dict[str, Any] | None,
    metrics: dict[str, Any] | None,
    description: str | None,
    stage: StageName | None,
    aliases: list[str] | tuple[str, ...] | None,
    flavor: str | None,
    flavor_kwargs: dict[str, Any],
) -> tuple[int, str]:
    """Store ``model`` (and its fitted preprocessor) as the next version of ``name`` (a
    valid model name), with its stage and aliases in the same publish; the arguments are
    :meth:`~fsregistry.registry.CustomModelRegistry.save_model`'s.  Returns the version's
    number and the name of the flavor that wrote it."""
    meta = records.describe(
        name,
        signature=signature,
        input_example=input_example,
        metadata=metadata,
        tags=validate_tags(tags),
        params=params,
        metrics=metrics,
        description=description,
    )
    wanted_stage, wanted_aliases = normalize_stage(stage), require_aliases(aliases)
    if model is None:
        raise InvalidArgumentError("model is None: pass the trained model to save", name=name)
    _refuse_alias_case_clash(name, wanted_aliases)
    chosen = get_flavor(flavor) if flavor else detect_flavor(model)
    staged = store.staging_dir("save")
    try:
        payload.write(
            staged,
            model,
            chosen,
            preprocessor_artifact,
            meta,
            durable=store.durable_staging,
            **flavor_kwargs,
        )
        records.check_new(meta)
        version = store.publish(name, staged, meta, wanted_stage, wanted_aliases)
    finally:
        files.remove_tree(staged)
    return version, chosen.name


def load(
    store: Store,
    model_identifier: str,
    options: LoadOptions,
    allow_pickle: bool,
    verify: hashing.Verify,
    *,
    with_preprocessor: bool,
) -> records.LoadedVersion:
    """Load the version an identifier names: the model, its preprocessor artifact (unless
    ``with_preprocessor`` is false), and everything ``records.version_info`` says of it.
    Without ``allow_pickle``, a version that would unpickle is refused before a byte of it
    is read."""
    name, version, meta = store.load_target(model_identifier)
    if not allow_pickle:  # before a byte is read, or downloaded from object storage
        where = Path(f"{store.root}/{name}/{version}")
        flavor = get_flavor(meta.flavor)
        payload.refuse_pickle(where, meta, flavor, allow_pickle=False, with_preprocessor=with_preprocessor)
    with store.deleted_meanwhile(name, version), store.local_folder(name, version, meta) as folder:
        model, artifact = payload.load(
            folder,
            meta,
            options,
            allow_pickle=allow_pickle,
            verify=verify,
            with_preprocessor=with_preprocessor,
        )
    loaded: records.LoadedVersion = {
        **records.version_info(meta),
        "model": model,
        "preprocessor_artifact": artifact,
    }
    return loaded


def model_summary(store: Store, name: str) -> dict[str, Any]:
    """The model-level summary of model ``name`` (valid); :class:`ModelNotFoundError` if it
    has none."""
    store.require_model(name)
    summary = store.model_summary(name, {})
    if summary is None:
        raise ModelNotFoundError(f"model {name!r} has no versions", name=name)
    return summary


def transition(
    store: Store, model_identifier: str, target: str | None, archive_existing: bool
) -> tuple[str, int, records.VersionRecord]:
    """Move the version an identifier names to stage ``target`` (canonical), under the
    lock; returns its name, number and updated record."""
    with store.write_lock():
        name, version = store.resolve(model_identifier)
        meta = store.transition(name, version, target, archive_existing=archive_existing)
    return name, version, meta


def set_alias(store: Store, name: str, alias: str, version: int | str) -> None:
    """Point ``alias`` (valid) of model ``name`` (valid) at ``version``: a number or any
    identifier of a version of that model."""
    with store.write_lock():
        target_name, target = store.resolve(_version_identifier(name, version))
        if target_name != name:
            raise InvalidIdentifierError(f"{version!r} is not a version of {name!r}", name=name)
        store.set_alias(name, alias, target)


def _refuse_alias_case_clash(name: str, aliases: list[str]) -> None:
    """Refuse, before anything is written, aliases of one call that differ only by case
    from each other; those the model holds are checked where the alias is claimed (under
    the lock, or in the head's compare-and-swap: :func:`~fsregistry.names.refuse_alias_twin`)."""
    for index, alias in enumerate(aliases):
        refuse_alias_twin(name, alias, aliases[:index])


def delete_alias(store: Store, name: str, alias: str) -> None:
    """Remove ``alias`` (valid) of model ``name`` (valid), under the lock."""
    store.require_model(name)
    with store.write_lock():
        store.delete_alias(name, alias)


def set_tag(store: Store, model_identifier: str, key: str, text: str) -> None:
    """Set a (valid) tag on a model (``"NAME"``) or on the version an identifier names."""
    _update(store, model_identifier, lambda rec: rec.tags.__setitem__(key, text))


def delete_tag(store: Store, model_identifier: str, key: str) -> None:
    """Remove a tag from a model or one version (a missing tag is not an error)."""
    _update(store, model_identifier, lambda rec: rec.tags.pop(key, None))


def set_description(store: Store, model_identifier: str, description: str) -> None:
    """Set the description of a model (``"NAME"``) or of one version."""
    _update(store, model_identifier, lambda rec: setattr(rec, "description", description))


def _update(store: Store, model_identifier: str, change: Change) -> None:
    """Apply ``change`` to a model record or a version's meta, under the lock."""
    ref = parse_identifier(model_identifier)
    with store.write_lock():
        if ref.kind == "model":
            assert ref.name is not None
            store.update_model(ref.name, change)
        else:
            store.update_version(*store.resolve(ref), change)


def _version_identifier(name: str, version: int | str) -> str:
    """``3``, ``"3"``, ``"latest"`` or ``"Production"`` of model ``name`` as an identifier;
    anything already shaped like an identifier is kept as it is."""
    text = str(version)
    if isinstance(version, int) or not any(ch in text for ch in "/@:"):
        return f"{name}/{text}"
    return text
