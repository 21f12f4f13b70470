"""XGBoost flavor: the native UBJSON model format, for Boosters and every scikit-learn wrapper.

``model.bin`` holds ``Booster.save_raw("ubj")``: trees, objective, base score, feature names
and types, best iteration, and (XGBoost >= 3) the categories seen in training, so pandas
categorical inputs are re-coded on predict.  A wrapper (``XGBClassifier``, ``XGBRegressor``,
``XGBRanker``, ``XGBRF*``) is rebuilt as the same class, with its JSON-able constructor
parameters (``missing``, ``n_jobs``, ... matter for predict) kept in ``SavedModel.options``.
Nothing is pickled, so these models load in a registry that refuses pickle.

A wrapper predicts through the scikit-learn API; a raw Booster through its objective
(:class:`BoosterOutputs`): what ``Booster.predict`` returns depends on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import FlavorError
from . import _common
from .base import LoadOptions, ModelOutputs, SavedModel, StreamSave, class_path, type_paths
from .predicting import BoosterOutputs, estimator_outputs

FORMAT = "xgboost-ubjson"
_WRAPPER = "XGBModel"
_BOOSTER = "Booster"


class XGBoostFlavor:
    """Native UBJSON for ``xgboost.Booster`` and the ``xgboost.sklearn`` estimators."""

    name = "xgboost"
    extra = "xgboost"
    packages: tuple[str, ...] = ("xgboost",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        """A Booster or any subclass of ``xgboost.sklearn.XGBModel``."""
        return any(_kind(path) is not None for path in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        """Write the booster's UBJSON; for a wrapper, keep its parameters in the options."""
        save_to = self.stream_saver(model, **kwargs)
        with open(path, "wb") as fh:
            return save_to(fh)

    def stream_saver(self, model: Any, **kwargs: Any) -> StreamSave:
        """The UBJSON comes from XGBoost as one buffer, written to the stream."""
        _common.reject_unknown(kwargs, self.name)
        xgb = _common.require("xgboost", "saving an XGBoost model")
        options: dict[str, Any]
        if isinstance(model, xgb.Booster):
            booster, options = model, {"kind": "booster"}
        else:
            booster, options = _wrapper_state(model)

        def save_to(stream: Any) -> SavedModel:
            stream.write(booster.save_raw(raw_format="ubj"))
            return SavedModel(FORMAT, uses_pickle=False, model_class=class_path(model), options=options)

        return save_to

    def recorded_code(self, saved: SavedModel) -> tuple[str, ...]:
        """A wrapper class from outside xgboost (a user's subclass) is imported to load it."""
        return () if saved.options.get("kind") == "booster" else _common.foreign_class(saved.model_class, "xgboost")

    def outputs(self, model: Any, declared_output_kind: Callable[[], str | None]) -> ModelOutputs | None:
        """A Booster predicts as its objective says; a wrapper through the scikit-learn API."""
        if _BOOSTER_PATH in type_paths(model):
            return XGBoosterOutputs(model)
        return estimator_outputs(model)

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        """Rebuild the Booster, or the wrapper class with its parameters, from the UBJSON."""
        xgb = _common.require("xgboost", "loading this XGBoost model")
        raw = bytearray(path.read_bytes())
        if saved.options.get("kind") == "booster":
            booster = xgb.Booster()
            booster.load_model(raw)
            if options.device:
                booster.set_param({"device": options.device})
            return booster
        return _load_wrapper(xgb, raw, saved, options)


def _kind(type_path: str) -> str | None:
    """``"booster"`` / ``"wrapper"`` for XGBoost's own classes, ``None`` for anything else."""
    if not type_path.startswith("xgboost."):
        return None
    last = type_path.rsplit(".", 1)[-1]
    return {_BOOSTER: "booster", _WRAPPER: "wrapper"}.get(last)


def _wrapper_state(model: Any) -> tuple[Any, dict[str, Any]]:
    """A fitted wrapper's booster, and the options that rebuild the wrapper around it."""
    try:
        booster = model.get_booster()
    except Exception as exc:  # sklearn's NotFittedError, or XGBoost's own
        raise FlavorError(f"cannot save an unfitted {type(model).__name__}: {exc}") from exc
    params, dropped = _common.json_params(model)
    options: dict[str, Any] = {"kind": "sklearn", "params": params, "dropped_params": dropped}
    if hasattr(model, "n_classes_"):
        options["n_classes"] = int(model.n_classes_)
    return booster, options


def _load_wrapper(xgb: Any, raw: bytearray, saved: SavedModel, options: LoadOptions) -> Any:
    """Same class, same parameters, then the booster (which also restores objective, base
    score, feature types and whether categorical features are enabled)."""
    cls = _common.resolve_class(saved.model_class, xgb.XGBModel, "xgboost", run_recorded_code=options.run_recorded_code)
    params = _common.from_json(saved.options.get("params", {}))
    params["device"] = _device(params.get("device"), options)
    model = cls()
    model.set_params(**params)
    model.load_model(raw)
    if "n_classes" in saved.options:
        model.n_classes_ = saved.options["n_classes"]
    return model


def _device(recorded: str | None, options: LoadOptions) -> str | None:
    """The caller's device, else CPU: a model trained on a GPU must load on a CPU-only box."""
    if options.device:
        return options.device
    return recorded if recorded in (None, "cpu") else "cpu"


#: the type path of a raw Booster, found in the MRO of a Booster and of any subclass of it
_BOOSTER_PATH = "xgboost.core.Booster"

#: XGBoost objectives that classify -> what ``Booster.predict`` returns for them
_CLASSIFIERS = {
    "binary:logistic": "probabilities",
    "binary:logitraw": "logits",
    "binary:hinge": "labels",  # 0 or 1, no probabilities
    "multi:softprob": "probabilities",
    "multi:softmax": "logits",  # predicts the class index; margins give the probabilities
}


class XGBoosterOutputs(BoosterOutputs):
    """A raw ``xgboost.Booster``: the objective and class count come from its config."""

    def __init__(self, booster: Any) -> None:
        learner = json.loads(booster.save_config())["learner"]
        objective = str(learner["objective"]["name"])
        n_classes = int(learner.get("learner_model_param", {}).get("num_class", 0) or 0)
        kind = _CLASSIFIERS.get(objective)
        super().__init__(booster, objective, kind, (n_classes if n_classes > 1 else 2) if kind else None)

    def raw(self, X: Any, margin: bool) -> Any:
        import numpy as np

        return np.asarray(self.model.predict(_dmatrix(self.model, X), output_margin=margin))


def _dmatrix(booster: Any, X: Any) -> Any:
    """An ``xgboost.DMatrix`` of ``X``: a DataFrame keeps its column names and categorical
    columns, in the booster's own feature order when it has every one of them (a signature
    may list them in another order); an array gets the booster's own feature names."""
    import numpy as np
    import pandas as pd
    import xgboost

    if isinstance(X, xgboost.DMatrix):
        return X
    names = booster.feature_names
    if isinstance(X, pd.DataFrame):
        if names is not None and list(X.columns) != names and set(names) <= set(X.columns):
            X = X[names]
        return xgboost.DMatrix(X, enable_categorical=True)
    width = X.shape[1] if np.ndim(X) == 2 else None
    fit = names is not None and width == len(names)
    return xgboost.DMatrix(X, feature_names=names if fit else None)


FLAVOR = XGBoostFlavor()
