"""A second, minimal :class:`BaseModelRegistry`: everything in a dict, nothing on disk.

It exists to prove that ``ModelPredictor`` depends on the abstract interface only.  It
implements every abstract method honestly (identifiers, stages, aliases, tags, deletes,
the same return dicts as ``fsregistry.base`` documents), and stores models as cloudpickle bytes so
that every load returns a fresh copy, as a real registry would.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import cloudpickle
import pandas as pd

from fsregistry.base import BaseModelRegistry
from fsregistry.errors import (
    InvalidIdentifierError,
    InvalidNameError,
    InvalidStageError,
    ModelNotFoundError,
    VersionNotFoundError,
)
from fsregistry.records.signature import Signature, infer_signature

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_STAGES = {"none": None, "development": None, "staging": "Staging", "production": "Production", "archived": "Archived"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _checked_name(name: Any, what: str = "model name") -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise InvalidNameError(f"invalid {what}: {name!r}")
    return name


def normalize_stage(stage: str | None) -> str | None:
    """``None``/``Development`` -> ``None``; other stages in canonical case."""
    key = "none" if stage is None else str(stage).strip().lower()
    if key not in _STAGES:
        raise InvalidStageError(f"unknown stage {stage!r}; use None, Staging, Production or Archived")
    return _STAGES[key]


def _type_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _flavor(model: Any) -> str:
    paths = [f"{c.__module__}.{c.__qualname__}" for c in type(model).__mro__]
    for prefix, flavor in (
        ("torch.", "torch"),
        ("xgboost.", "xgboost"),
        ("lightgbm.", "lightgbm"),
        ("catboost.", "catboost"),
        ("sklearn.", "sklearn"),
    ):
        if any(p.startswith(prefix) for p in paths):
            return flavor
    return "python"


def _split_metadata(metadata: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """Floats are metrics, everything else a param (the same rule for every save)."""
    metrics = {k: float(v) for k, v in metadata.items() if isinstance(v, float)}
    params = {k: v for k, v in metadata.items() if k not in metrics}
    return params, metrics


@dataclass
class _Version:
    name: str
    version: int
    run_id: str
    blob: bytes
    has_preprocessor: bool
    flavor: str
    model_class: str
    signature: dict[str, Any] | None
    input_example: pd.DataFrame | None
    params: dict[str, Any]
    metrics: dict[str, float]
    tags: dict[str, Any]
    created_at: str = field(default_factory=_now)
    stage: str | None = None
    stage_history: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""


@dataclass
class _Model:
    name: str
    versions: dict[int, _Version] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)
    last_version: int = 0


class MemoryRegistry(BaseModelRegistry):
    """An in-process registry with the full :class:`BaseModelRegistry` behaviour."""

    def __init__(self, config: Any = None, app_logger: Any = None, error_handler: Any = None) -> None:
        super().__init__(config, app_logger, error_handler)
        self._models: dict[str, _Model] = {}

    # -- saving and loading -------------------------------------------------------------

    def save_model(
        self,
        model: Any,
        model_name: str,
        preprocessor_artifact: Any = None,
        signature: Any = None,
        input_example: Any = None,
        metadata: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> str:
        name = _checked_name(model_name)
        entry = self._models.setdefault(name, _Model(name))
        entry.last_version += 1  # never reused, not even after a delete
        params, metrics = _split_metadata(dict(metadata or {}))
        entry.versions[entry.last_version] = _Version(
            name=name,
            version=entry.last_version,
            run_id=uuid.uuid4().hex,
            blob=cloudpickle.dumps((model, preprocessor_artifact)),
            has_preprocessor=preprocessor_artifact is not None,
            flavor=_flavor(model),
            model_class=_type_path(model),
            signature=self._signature(signature, input_example),
            input_example=pd.DataFrame(input_example).copy() if input_example is not None else None,
            params=params,
            metrics=metrics,
            tags=dict(tags or {}),
        )
        return f"models:/{name}/{entry.last_version}"

    @staticmethod
    def _signature(signature: Any, input_example: Any) -> dict[str, Any] | None:
        if isinstance(signature, Signature):
            return signature.to_dict()
        if isinstance(signature, dict):
            return dict(signature)
        return infer_signature(input_example).to_dict() if input_example is not None else None

    def load_model(self, model_identifier: str, **options: Any) -> dict[str, Any]:
        if options:
            raise TypeError(f"MemoryRegistry.load_model takes no options, got {sorted(options)}")
        version = self._resolve(model_identifier)
        model, artifact = cloudpickle.loads(version.blob)
        record = self._describe(version)
        record.update(model=model, preprocessor_artifact=artifact)
        return record

    def get_model_by_stage(self, model_name: str, stage: str) -> dict[str, Any]:
        return self.load_model(f"models:/{model_name}/{stage}")

    def get_model_version(self, model_identifier: str) -> dict[str, Any]:
        version = self._resolve(model_identifier)
        record = self._describe(version)
        record.update(
            files={},
            size=len(version.blob),
            has_preprocessor=version.has_preprocessor,
            source=None,
            stage_history=list(version.stage_history),
        )
        return record

    def _describe(self, version: _Version) -> dict[str, Any]:
        entry = self._models[version.name]
        signature = Signature.from_dict(version.signature) if version.signature else None
        return {
            "metadata": {
                "params": dict(version.params),
                "metrics": dict(version.metrics),
                "tags": {**entry.tags, **version.tags},
            },
            "run_id": version.run_id,
            "name": version.name,
            "version": version.version,
            "stage": version.stage,
            "aliases": sorted(a for a, v in entry.aliases.items() if v == version.version),
            "flavor": version.flavor,
            "signature": signature,
            "input_example": version.input_example.copy() if version.input_example is not None else None,
            "uri": f"models:/{version.name}/{version.version}",
            "description": version.description,
            "created_at": version.created_at,
            "environment": {"packages": {}},
            "model_class": version.model_class,
            "model_format": "cloudpickle",
        }

    # -- listing and deleting -----------------------------------------------------------

    def list_models(self, model_name: str | None = None, tags: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        wanted = dict(tags or {})
        if model_name is None:
            return [self._summary(m) for m in self._models.values() if _matches(m.tags, wanted)]
        entry = self._model(model_name)
        versions = [self._describe(v) for v in entry.versions.values()]
        return [v for v in versions if _matches(v["metadata"]["tags"], wanted)]

    def _summary(self, entry: _Model) -> dict[str, Any]:
        return {
            "name": entry.name,
            "versions": sorted(entry.versions),
            "latest_version": max(entry.versions, default=None),
            "aliases": dict(entry.aliases),
            "tags": dict(entry.tags),
        }

    def delete_model(self, model_identifier: str) -> None:
        if "/" not in model_identifier.removeprefix("models:/"):
            self._model(model_identifier.removeprefix("models:/"))
            del self._models[model_identifier.removeprefix("models:/")]
            return
        version = self._resolve(model_identifier)
        entry = self._models[version.name]
        del entry.versions[version.version]
        entry.aliases = {a: v for a, v in entry.aliases.items() if v != version.version}

    # -- stages, aliases, tags ----------------------------------------------------------

    def transition_model_stage(
        self, model_identifier: str, stage: str | None, archive_existing: bool = True
    ) -> dict[str, Any]:
        target = normalize_stage(stage)
        version = self._resolve(model_identifier)
        if archive_existing and target in ("Staging", "Production"):
            for other in self._models[version.name].versions.values():
                if other is not version and other.stage == target:
                    self._move(other, "Archived")
        self._move(version, target)
        return self.get_model_version(f"{version.name}/{version.version}")

    @staticmethod
    def _move(version: _Version, stage: str | None) -> None:
        version.stage_history.append({"stage": stage, "at": _now(), "from": version.stage})
        version.stage = stage

    def set_alias(self, model_name: str, alias: str, version: int | str) -> None:
        _checked_name(alias, "alias")
        if str(alias).lower() == "latest" or str(alias).lower() in _STAGES:
            raise InvalidNameError(f"alias {alias!r} is reserved")
        target = self._resolve(f"{model_name}/{version}")
        self._models[target.name].aliases[alias] = target.version

    def delete_alias(self, model_name: str, alias: str) -> None:
        entry = self._model(model_name)
        if alias not in entry.aliases:
            raise VersionNotFoundError(f"model {model_name!r} has no alias {alias!r}", name=model_name)
        del entry.aliases[alias]

    def set_tag(self, model_identifier: str, key: str, value: Any) -> None:
        _checked_name(key, "tag key")
        self._tags_of(model_identifier)[key] = value

    def delete_tag(self, model_identifier: str, key: str) -> None:
        tags = self._tags_of(model_identifier)
        if key not in tags:
            raise ModelNotFoundError(f"no tag {key!r} on {model_identifier!r}")
        del tags[key]

    def _tags_of(self, model_identifier: str) -> dict[str, Any]:
        bare = model_identifier.removeprefix("models:/")
        if "/" not in bare and "@" not in bare:
            return self._model(bare).tags
        return self._resolve(model_identifier).tags

    # -- identifiers --------------------------------------------------------------------

    def _model(self, name: str) -> _Model:
        _checked_name(name)
        if name not in self._models:
            raise ModelNotFoundError(f"no model named {name!r}", name=name)
        return self._models[name]

    def _resolve(self, identifier: str) -> _Version:
        """Any accepted identifier form -> the version it names."""
        if not isinstance(identifier, str) or not identifier:
            raise InvalidIdentifierError(f"invalid model identifier {identifier!r}")
        if identifier.startswith("runs:/"):
            return self._by_run(identifier)
        bare = identifier.removeprefix("models:/")
        if "@" in bare:
            name, alias = bare.split("@", 1)
            return self._by_alias(name, alias)
        name, sep, ref = bare.partition("/")
        if not sep or not ref or "/" in ref:
            raise InvalidIdentifierError(
                f"invalid model identifier {identifier!r}; expected NAME/VERSION or NAME/STAGE", name=name
            )
        return self._by_ref(self._model(name), ref)

    def _by_run(self, identifier: str) -> _Version:
        run_id = identifier.removeprefix("runs:/").split("/", 1)[0]
        for entry in self._models.values():
            for version in entry.versions.values():
                if version.run_id == run_id:
                    return version
        raise ModelNotFoundError(f"no version was saved by run {run_id!r}")

    def _by_alias(self, name: str, alias: str) -> _Version:
        entry = self._model(name)
        if alias not in entry.aliases:
            raise VersionNotFoundError(f"model {name!r} has no alias {alias!r}", name=name)
        return entry.versions[entry.aliases[alias]]

    def _by_ref(self, entry: _Model, ref: str) -> _Version:
        if ref.isdigit():
            if int(ref) not in entry.versions:
                raise VersionNotFoundError(f"model {entry.name!r} has no version {ref}", name=entry.name)
            return entry.versions[int(ref)]
        if ref.lower() == "latest":
            if not entry.versions:
                raise VersionNotFoundError(f"model {entry.name!r} has no versions", name=entry.name)
            return entry.versions[max(entry.versions)]
        stage = normalize_stage(ref)
        holders = [v for v in entry.versions.values() if v.stage == stage]
        if not holders:
            raise VersionNotFoundError(f"no version of {entry.name!r} is in stage {ref!r}", name=entry.name)
        return max(holders, key=lambda v: v.version)


def _matches(tags: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(k in tags and tags[k] == v for k, v in wanted.items())
