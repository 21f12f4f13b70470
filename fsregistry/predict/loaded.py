"""What ``ModelPredictor.load_model`` makes of a registry's ``load_model`` record.

A registry hands back a plain dict (``model``, ``preprocessor_artifact``, ``signature``,
``metadata``...).  This module turns it into one immutable :class:`LoadedModel`: the
fitted preprocessor and feature names unpacked from the seed's artifact dict (or a bare
transformer), the signature as a :class:`~fsregistry.records.signature.Signature`, the schema to
enforce, and the adapter that knows how this kind of model predicts.  Anything unusable
is a :class:`~fsregistry.errors.PredictorError` here, at load time, not at predict time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import PredictorError
from ..records.signature import Signature
from .outputs import Adapter, adapter_for, declared_output_kind
from .schema import InputSchema, schema_from


@dataclass(frozen=True)
class LoadedModel:
    """Everything one ``load_model`` produced; replaced as a whole, never half-updated."""

    model: Any
    preprocessor: Any
    feature_names_in: list[str] | None
    feature_names_out: list[str] | None
    signature: Signature | None
    schema: InputSchema | None
    adapter: Adapter
    output_kind: str | None
    record: dict[str, Any] = field(default_factory=dict)


def build_loaded(record: Mapping[str, Any]) -> LoadedModel:
    """Turn a registry's ``load_model`` dict into a :class:`LoadedModel` (or raise)."""
    model = record.get("model")
    if model is None:
        raise PredictorError("the registry returned no model object")
    preprocessor, names_in, names_out = unpack_artifact(record.get("preprocessor_artifact"))
    signature = coerce_signature(record.get("signature"))
    first_stage = preprocessor if preprocessor is not None else model
    names = names_in or _fitted_names(first_stage)
    metadata = record.get("metadata") or {}
    adapter = adapter_for(
        model, lambda: _declared_kind(model, metadata, signature), signature.output if signature is not None else None
    )
    return LoadedModel(
        model=model,
        preprocessor=preprocessor,
        feature_names_in=names,
        feature_names_out=names_out,
        signature=signature,
        schema=schema_from(
            signature,
            names,
            order=names_in or _feature_order(first_stage),
            categories=_model_categories(model, signature) if preprocessor is None else None,
        ),
        adapter=adapter,
        output_kind=adapter.output_kind,
        record={k: v for k, v in record.items() if k not in ("model", "preprocessor_artifact")},
    )


def unpack_artifact(artifact: Any) -> tuple[Any, list[str] | None, list[str] | None]:
    """``(preprocessor, feature_names_in, feature_names_out)`` from the seed's artifact dict
    (``preprocessor``, ``feature_names_in``, ``feature_names_out``, ...) or a bare fitted
    transformer."""
    if artifact is None:
        return None, None, None
    if isinstance(artifact, Mapping):
        preprocessor = artifact.get("preprocessor")
        names_in, names_out = artifact.get("feature_names_in"), artifact.get("feature_names_out")
    else:
        preprocessor, names_in, names_out = artifact, None, None
    if preprocessor is not None and not callable(getattr(preprocessor, "transform", None)):
        raise PredictorError(f"the preprocessor artifact holds a {type(preprocessor).__name__}, which has no transform")
    return preprocessor, _names(names_in), _names(names_out)


def _names(values: Any) -> list[str] | None:
    if values is None:
        return None
    names = [str(v) for v in values]
    return names or None


def _fitted_names(obj: Any) -> list[str] | None:
    """``feature_names_in_`` of a fitted scikit-learn-style object (set when fit on a DataFrame)."""
    return _names(getattr(obj, "feature_names_in_", None)) if obj is not None else None


def _feature_order(obj: Any) -> list[str] | None:
    """The column order a fitted model or transformer reads its input in, where it records
    one: ``feature_names_in_`` (scikit-learn, and the XGBoost and LightGBM wrappers), an
    XGBoost Booster's ``feature_names``, a LightGBM Booster's ``feature_name()``, CatBoost's
    ``feature_names_``.  LightGBM reads columns by position, so a signature that lists them
    in another order must be put back in this one."""
    for read in (
        lambda: getattr(obj, "feature_names_in_", None),
        lambda: getattr(obj, "feature_names", None),
        lambda: obj.feature_name() if callable(getattr(obj, "feature_name", None)) else None,
        lambda: getattr(obj, "feature_names_", None),
    ):
        try:
            names = read()
        except Exception:  # unfitted, or fitted without names: nothing to order by
            continue
        if names is not None and not isinstance(names, str | bytes):
            return _names(names)
    return None


def _model_categories(model: Any, signature: Signature | None) -> dict[str, list[Any] | None]:
    """The categories a fitted model records for its categorical columns, by column:
    ``None`` for each of a CatBoost model's categorical features, which take any value
    (an unseen one included, where a missing one is an error); a LightGBM model's
    ``pandas_categorical``, one list per column of category dtype it was fitted on, in the
    order of its features, matched to the signature's category columns in that order
    (when their numbers agree).  Empty when the model records none, or in a form not
    understood: the signature's categories then stand."""
    try:
        if callable(getattr(model, "get_cat_feature_indices", None)):  # CatBoost
            names = list(getattr(model, "feature_names_", None) or [])
            return {str(names[i]): None for i in model.get_cat_feature_indices() if i < len(names)}
        booster = getattr(model, "booster_", model)  # a LightGBM wrapper, or a Booster
        recorded = getattr(booster, "pandas_categorical", None)
        if not recorded or signature is None or not callable(getattr(booster, "feature_name", None)):
            return {}
        position = {str(n): i for i, n in enumerate(booster.feature_name())}
        columns = sorted(
            (c.name for c in signature.inputs if c.kind == "category" and c.name in position), key=position.__getitem__
        )
        if len(columns) != len(recorded):
            return {}
        return {column: list(values) for column, values in zip(columns, recorded, strict=True)}
    except Exception:  # an unfitted or unusual model: the signature's categories stand
        return {}


def coerce_signature(value: Any) -> Signature | None:
    """A :class:`Signature` from a Signature, its dict form, or ``None``."""
    if value is None or isinstance(value, Signature):
        return value
    if isinstance(value, Mapping):
        try:
            return Signature.from_dict(dict(value))
        except (TypeError, ValueError, KeyError) as exc:
            raise PredictorError(f"the stored signature is malformed: {exc}") from exc
    raise PredictorError(f"a signature must be a Signature or a dict, got {type(value).__name__}")


def _declared_kind(model: Any, metadata: Mapping[str, Any], signature: Signature | None) -> str | None:
    """What the model declares its output to be (see ``declared_output_kind``), else
    ``"values"`` when its signature records values; asked only by flavors whose models
    cannot tell by themselves (torch)."""
    kind = declared_output_kind(model, metadata.get("tags") or {}, metadata.get("params") or {})
    if kind is None and signature is not None and signature.output.get("kind") == "values":
        return "values"
    return kind


def feature_names_out(loaded: LoadedModel) -> list[str] | None:
    """The preprocessor's output feature names: from the artifact, else asked of it."""
    if loaded.feature_names_out is not None or loaded.preprocessor is None:
        return loaded.feature_names_out
    getter = getattr(loaded.preprocessor, "get_feature_names_out", None)
    try:
        return _names(getter()) if callable(getter) else None
    except Exception:  # not every transformer can name its outputs; info must not fail
        return None
