"""LightGBM flavor: the native text model, for Boosters and the scikit-learn wrappers.

``model.bin`` is ``Booster.save_model`` output with every iteration kept (it includes the
``pandas_categorical`` line, so pandas categorical inputs are re-coded on predict).  The
best iteration, which LightGBM does not keep in the file, goes in ``SavedModel.options``.

The scikit-learn wrappers (``LGBMClassifier``, ``LGBMRegressor``, ``LGBMRanker``) have no
native save: their state lives in Python attributes next to the booster.  We keep that
state as JSON in the options (constructor parameters, objective, number of features,
whether the training data had feature names, best iteration and scores, and the class
labels with their exact dtype, so string labels come back as the same strings) and
rebuild the wrapper around the loaded booster.  Predictions, probabilities included, are
bitwise identical.  A wrapper whose state has no faithful JSON form (a custom objective
function, labels that JSON cannot carry exactly) is stored with cloudpickle instead, with
a warning, and is then refused by a registry that refuses pickle.

A wrapper predicts through the scikit-learn API; a raw Booster through its objective
(:class:`LGBMBoosterOutputs`).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import FlavorError
from ..storage import pickling
from . import _common
from .base import LoadOptions, ModelOutputs, SavedModel, class_path, type_paths
from .predicting import BoosterOutputs, estimator_outputs

FORMAT = "lightgbm-text"
PICKLE_FORMAT = "cloudpickle"


class LightGBMFlavor:
    """Native text model for ``lightgbm.Booster``; text model plus JSON state for wrappers."""

    name = "lightgbm"
    extra = "lightgbm"
    packages: tuple[str, ...] = ("lightgbm",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        """A Booster or any subclass of ``lightgbm.sklearn.LGBMModel``."""
        return any(_kind(path) is not None for path in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        """Write the text model; a wrapper's state goes to the options (or all to pickle)."""
        _common.reject_unknown(kwargs, self.name)
        lgb = _common.require("lightgbm", "saving a LightGBM model")
        if isinstance(model, lgb.Booster):
            _write(model, path)
            return SavedModel(FORMAT, uses_pickle=False, model_class=class_path(model), options=_booster_state(model))
        return _save_wrapper(model, path)

    def loads_with_pickle(self, saved: SavedModel) -> bool:
        """Only the cloudpickle fallback unpickles (the load path is chosen by the format)."""
        return saved.format == PICKLE_FORMAT

    def recorded_code(self, saved: SavedModel) -> tuple[str, ...]:
        """A wrapper class from outside lightgbm (a user's subclass) is imported to load it."""
        if saved.format == PICKLE_FORMAT or saved.options.get("kind") == "booster":
            return ()
        return _common.foreign_class(saved.model_class, "lightgbm")

    def outputs(self, model: Any, declared_output_kind: Callable[[], str | None]) -> ModelOutputs | None:
        """A Booster predicts as its objective says; a wrapper through the scikit-learn API."""
        if _BOOSTER_PATH in type_paths(model):
            return LGBMBoosterOutputs(model)
        return estimator_outputs(model)

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        """Load the booster, restore its best iteration, and rebuild the wrapper around it."""
        if saved.format == PICKLE_FORMAT:
            return _load_pickled(path)
        lgb = _common.require("lightgbm", "loading this LightGBM model")
        booster = lgb.Booster(model_file=path)
        _restore_booster_state(booster, saved.options)
        if saved.options.get("kind") == "booster":
            return booster
        return _load_wrapper(lgb, booster, saved, options)


def _kind(type_path: str) -> str | None:
    if not type_path.startswith("lightgbm."):
        return None
    return {"Booster": "booster", "LGBMModel": "wrapper"}.get(type_path.rsplit(".", 1)[-1])


def _write(booster: Any, path: Path) -> None:
    """Every iteration, not just up to the best one: the best iteration is restored on load."""
    booster.save_model(path, num_iteration=-1)


def _booster_state(booster: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"kind": "booster", "best_iteration": int(booster.best_iteration)}
    best_score = _common.to_json(_plain_dicts(booster.best_score))
    if best_score is not _common.UNSUPPORTED:
        state["best_score"] = best_score
    return state


def _restore_booster_state(booster: Any, options: dict[str, Any]) -> None:
    booster.best_iteration = int(options.get("best_iteration", -1))
    booster.best_score = _best_score(options.get("best_score", {}))


def _best_score(data: dict[str, Any]) -> Any:
    """LightGBM's own shape: ``defaultdict(OrderedDict)`` of ``{dataset: {metric: value}}``."""
    restored: defaultdict[str, OrderedDict[str, Any]] = defaultdict(OrderedDict)
    for name, metrics in _common.from_json(data).items():
        restored[name] = OrderedDict(metrics)
    return restored


def _plain_dicts(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_dicts(v) for k, v in value.items()}
    return value


# -- scikit-learn wrappers -----------------------------------------------------------


def _save_wrapper(model: Any, path: Path) -> SavedModel:
    if not getattr(model, "fitted_", False) or getattr(model, "_Booster", None) is None:
        raise FlavorError(f"cannot save an unfitted {type(model).__name__}")
    state = _wrapper_state(model)
    if isinstance(state, str):
        return _save_pickled(model, path, state)
    _write(model._Booster, path)
    params, dropped = _common.json_params(model)
    options = {
        **_booster_state(model._Booster),
        "kind": "sklearn",
        "params": params,
        "dropped_params": dropped,
        "state": state,
    }
    return SavedModel(FORMAT, uses_pickle=False, model_class=class_path(model), options=options)


def _wrapper_state(model: Any) -> dict[str, Any] | str:
    """The fitted attributes predict needs, as JSON; or why they have no faithful JSON form."""
    if callable(model._objective):
        return "it uses a custom objective function"
    state: dict[str, Any] = {
        "objective": model._objective,
        "n_features_in": int(model._n_features_in),
        "fitted_with_feature_names": bool(model._fitted_with_feature_names),
        "best_iteration": int(model._best_iteration),
    }
    for key, value in (("best_score", _plain_dicts(model._best_score)), ("evals_result", model._evals_result)):
        encoded = _common.to_json(value)
        if encoded is not _common.UNSUPPORTED:
            state[key] = encoded
    if getattr(model, "_eval_at", None) is not None:
        state["eval_at"] = [int(k) for k in model._eval_at]
    if getattr(model, "_classes", None) is not None:
        classes = _common.encode_array(model._classes)
        if classes is None:
            return f"its class labels ({model._classes.dtype}) have no exact JSON form"
        state["classes"] = classes
    return state


def _save_pickled(model: Any, path: Path, reason: str) -> SavedModel:
    warnings.warn(
        f"{type(model).__name__} stored with cloudpickle, not LightGBM's text format: {reason}; "
        "a registry that refuses pickle will not load it",
        UserWarning,
        stacklevel=4,
    )
    pickling.dump(model, path)
    return SavedModel(PICKLE_FORMAT, uses_pickle=True, model_class=class_path(model), options={"reason": reason})


def _load_pickled(path: Path) -> Any:
    _common.require("lightgbm", "loading this LightGBM model")
    try:
        return pickling.load(path)
    except ModuleNotFoundError as exc:
        raise _common.missing_module_error(exc, "loading this LightGBM model") from exc


def _load_wrapper(lgb: Any, booster: Any, saved: SavedModel, options: LoadOptions) -> Any:
    """The same class with the same parameters, its fitted attributes set around ``booster``."""
    cls = _common.resolve_class(
        saved.model_class, lgb.LGBMModel, "lightgbm", run_recorded_code=options.run_recorded_code
    )
    model = cls()
    model.set_params(**_common.from_json(saved.options.get("params", {})))
    state = saved.options["state"]
    model._Booster = booster
    model._objective = state["objective"]
    model._n_features = booster.num_feature()
    model._n_features_in = state["n_features_in"]
    model._fitted_with_feature_names = state["fitted_with_feature_names"]
    model._best_iteration = state["best_iteration"]
    model._best_score = _best_score(state.get("best_score", {}))
    model._evals_result = _common.from_json(state.get("evals_result", {}))
    if "eval_at" in state:
        model._eval_at = list(state["eval_at"])
    if "classes" in state:
        _set_classes(model, _common.decode_array(state["classes"]))
    model.fitted_ = True
    return model


def _set_classes(model: Any, classes: Any) -> None:
    """What ``LGBMClassifier.fit`` derives from the labels: encoder, classes, class map."""
    encoder = _label_encoder()
    encoder.classes_ = classes
    model._le = encoder
    model._classes = classes
    model._n_classes = len(classes)
    model._class_map = dict(zip(classes, encoder.transform(classes), strict=True))


def _label_encoder() -> Any:
    """LightGBM's own label encoder class (scikit-learn's ``LabelEncoder`` today)."""
    compat = _common.require("lightgbm.compat", "loading this LightGBM model")
    cls = getattr(compat, "_LGBMLabelEncoder", None)
    if cls is None:
        cls = _common.require("sklearn.preprocessing", "loading this LightGBM model").LabelEncoder
    return cls()


#: the type path of a raw Booster, found in the MRO of a Booster and of any subclass of it
_BOOSTER_PATH = "lightgbm.basic.Booster"

#: LightGBM objectives (and their aliases) that classify -> ``(family, what predict returns)``
_CLASSIFIERS = {
    "binary": ("binary", "probabilities"),
    "cross_entropy": ("binary", "probabilities"),
    "xentropy": ("binary", "probabilities"),
    # predict gives log(1 + exp(score)), the intensity; P(1) = 1 - exp(-it) = sigmoid(score)
    "cross_entropy_lambda": ("binary", "logits"),
    "xentlambda": ("binary", "logits"),
    "multiclass": ("multiclass", "probabilities"),
    "softmax": ("multiclass", "probabilities"),
    # one-vs-all scores: each in [0, 1], not summing to 1, and not normalised here
    "multiclassova": ("multiclass", "probabilities"),
    "multiclass_ova": ("multiclass", "probabilities"),
    "ova": ("multiclass", "probabilities"),
    "ovr": ("multiclass", "probabilities"),
}


class LGBMBoosterOutputs(BoosterOutputs):
    """A raw ``lightgbm.Booster``: the objective comes from its parameters (any of
    LightGBM's aliases for it), the class count from its trees per iteration."""

    def __init__(self, booster: Any) -> None:
        params = getattr(booster, "params", None) or {}
        objective = next(
            (params[k] for k in ("objective", "objective_type", "app", "application", "loss") if params.get(k)),
            "regression",
        )
        found = _CLASSIFIERS.get(str(objective).lower()) if isinstance(objective, str) else None
        if found is None:
            super().__init__(booster, str(objective), None, None)
            return
        family, kind = found
        n_classes = 2 if family == "binary" else int(booster.num_model_per_iteration())
        super().__init__(booster, str(objective), kind, n_classes)

    def raw(self, X: Any, margin: bool) -> Any:
        import numpy as np

        return np.asarray(self.model.predict(X, raw_score=margin))


FLAVOR = LightGBMFlavor()
