"""Models for the flavor contract test, and the script that loads one in a fresh process.

Each :class:`Case` builds a small fitted model, its input data (deterministic, so a child
process can rebuild it) and the outputs to compare.  ``tests/test_flavors.py`` saves the
model through a registry, then runs this file as a script::

    python tests/helpers/flavor_cases.py ROOT URI CASE OUT

which loads the version in a new interpreter (nothing shared with the saving process but
the files), computes the case's outputs on the same inputs, predicts them through a
``ModelPredictor`` (which asks the flavor how the model predicts), and pickles both to ``OUT``.
The expected predictions are computed here with the framework alone (:attr:`Case.predictions`).

The torch module class and its factory live in ``tests/helpers/torch_models.py``, importable by
the child, so the other cases' children never import torch.
"""

from __future__ import annotations

import pickle
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_ROWS = 240
TREES = 8


@dataclass(frozen=True)
class Case:
    """One model kind: how to build it, what it predicts on, and what we expect on disk."""

    name: str
    flavor: str
    format: str
    build: Callable[[], tuple[Any, dict[str, Any]]]  # -> (fitted model, save_model kwargs)
    inputs: Callable[[], Any]
    outputs: Callable[[Any, Any], dict[str, Any]]
    #: what ``ModelPredictor.predict`` must return, computed with the framework alone:
    #: ``default`` (``predict(X)``) and, for a classifier, ``labels``
    #: (``predict(X, return_probabilities=False)``)
    predictions: Callable[[Any, Any], dict[str, Any]]
    uses_pickle: bool = False


# -- data ---------------------------------------------------------------------------


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def numeric(seed: int = 0, n: int = N_ROWS, k: int = 5) -> np.ndarray:
    """Floats with some exact -1.0 values (a custom ``missing`` marker for XGBoost)."""
    X = _rng(seed).normal(size=(n, k))
    X[::7, 1] = -1.0
    return X


def mixed_frame(seed: int = 0, n: int = N_ROWS) -> pd.DataFrame:
    """Numbers, a pandas categorical and a string column."""
    rng = _rng(seed)
    return pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "color": pd.Categorical(rng.choice(["red", "green", "blue"], n), categories=["red", "green", "blue"]),
            "city": rng.choice(["paris", "oslo", "lima", "rome"], n).astype(object),
        }
    )


def numeric_part(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["x1", "x2", "color"]]


def three_labels(frame: pd.DataFrame) -> np.ndarray:
    """String labels depending on a number and the categorical column."""
    return np.where(frame["x1"] > 0.3, "win", np.where(frame["color"] == "red", "draw", "loss")).astype(object)


def label_codes(labels: np.ndarray) -> np.ndarray:
    return pd.Series(labels).map({"draw": 0, "loss": 1, "win": 2}).to_numpy()


def target(X: np.ndarray) -> np.ndarray:
    return X[:, 0] * 2 + X[:, 2] - X[:, 3] ** 2


# -- outputs ------------------------------------------------------------------------


def estimator_outputs(model: Any, X: Any) -> dict[str, Any]:
    out = {"predict": model.predict(X)}
    if hasattr(model, "predict_proba"):
        out["predict_proba"] = model.predict_proba(X)
    return out


def xgb_booster_outputs(model: Any, X: Any) -> dict[str, Any]:
    import xgboost as xgb

    data = xgb.DMatrix(X, enable_categorical=True)
    return {"predict": model.predict(data), "margin": model.predict(data, output_margin=True)}


def lgb_booster_outputs(model: Any, X: Any) -> dict[str, Any]:
    return {"predict": model.predict(X), "raw": model.predict(X, raw_score=True)}


def catboost_core_outputs(model: Any, X: Any) -> dict[str, Any]:
    return {"predict": model.predict(X, prediction_type="RawFormulaVal")}


def torch_outputs(model: Any, X: Any) -> dict[str, Any]:
    import torch

    with torch.no_grad():
        return {"forward": model(torch.as_tensor(X)).numpy(), "training": np.array(model.training)}


# -- predictions expected of ModelPredictor -------------------------------------------


def estimator_predictions(model: Any, X: Any) -> dict[str, Any]:
    """scikit-learn API: a classifier gives P(last class) for two classes, every column
    for more, and its own labels; a regressor its ``predict``."""
    if not hasattr(model, "predict_proba"):
        return {"default": model.predict(X)}
    proba = model.predict_proba(X)
    return {"default": proba[:, -1] if proba.shape[1] <= 2 else proba, "labels": model.predict(X).reshape(-1)}


def xgb_softprob_predictions(model: Any, X: Any) -> dict[str, Any]:
    import xgboost as xgb

    proba = model.predict(xgb.DMatrix(X, enable_categorical=True))
    return {"default": proba, "labels": np.argmax(proba, axis=1)}


def lgb_binary_predictions(model: Any, X: Any) -> dict[str, Any]:
    p_one = model.predict(X)
    return {"default": p_one, "labels": (p_one >= 0.5).astype(np.intp)}


def torch_logits_predictions(model: Any, X: Any) -> dict[str, Any]:
    """Saved with the tag ``output_kind=logits``: softmax probabilities, argmax labels."""
    import torch

    with torch.no_grad():
        logits = model(torch.as_tensor(X)).double()
    return {"default": torch.softmax(logits, dim=1).numpy(), "labels": logits.argmax(dim=1).numpy()}


#: the tag that tells the predictor what the MLP's three outputs are
TORCH_TAGS = {"tags": {"output_kind": "logits"}}


# -- python (the cloudpickle fallback) --------------------------------------------------


class LinearScorer:
    """A user's own model: no framework, just ``predict`` (stored by the python flavor)."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.weights


def python_scorer() -> tuple[Any, dict[str, Any]]:
    return LinearScorer(np.array([2.0, 0.0, 1.0, -1.0, 0.5])), {}


# -- xgboost ------------------------------------------------------------------------


def xgb_classifier_binary() -> tuple[Any, dict[str, Any]]:
    import xgboost as xgb

    X = numeric()
    model = xgb.XGBClassifier(n_estimators=TREES, max_depth=3, missing=-1.0, n_jobs=1)
    return model.fit(X, (target(X) > 0).astype(int)), {}


def xgb_classifier_categorical() -> tuple[Any, dict[str, Any]]:
    import xgboost as xgb

    frame = numeric_part(mixed_frame())
    model = xgb.XGBClassifier(n_estimators=TREES, max_depth=3, enable_categorical=True, n_jobs=1)
    return model.fit(frame, label_codes(three_labels(frame))), {}


def xgb_regressor_early_stopping() -> tuple[Any, dict[str, Any]]:
    import xgboost as xgb

    X = numeric()
    y = target(X)
    model = xgb.XGBRegressor(n_estimators=60, max_depth=3, learning_rate=0.5, early_stopping_rounds=2, n_jobs=1)
    model.fit(X[:180], y[:180], eval_set=[(X[180:], y[180:])], verbose=False)
    assert model.best_iteration < 59  # predict must keep using the best iteration
    return model, {}


def xgb_ranker() -> tuple[Any, dict[str, Any]]:
    import xgboost as xgb

    X = numeric()
    qid = np.repeat(np.arange(N_ROWS // 12), 12)
    relevance = np.clip(np.round(target(X)), 0, 4).astype(int)
    return xgb.XGBRanker(n_estimators=TREES, max_depth=3, n_jobs=1).fit(X, relevance, qid=qid), {}


def xgb_rf_classifier() -> tuple[Any, dict[str, Any]]:
    import xgboost as xgb

    X = numeric()
    return xgb.XGBRFClassifier(n_estimators=TREES, max_depth=3, n_jobs=1).fit(X, (target(X) > 0).astype(int)), {}


def xgb_booster() -> tuple[Any, dict[str, Any]]:
    import xgboost as xgb

    frame = numeric_part(mixed_frame())
    data = xgb.DMatrix(frame, label=label_codes(three_labels(frame)), enable_categorical=True)
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "nthread": 1}
    return xgb.train(params, data, num_boost_round=TREES), {}


# -- lightgbm -----------------------------------------------------------------------


def lgb_classifier_binary_strings() -> tuple[Any, dict[str, Any]]:
    import lightgbm as lgb

    X = numeric()
    labels = np.where(target(X) > 0, "yes", "no")
    return lgb.LGBMClassifier(n_estimators=TREES, num_leaves=7, verbose=-1, n_jobs=1).fit(X, labels), {}


def lgb_classifier_categorical() -> tuple[Any, dict[str, Any]]:
    import lightgbm as lgb

    frame = numeric_part(mixed_frame())
    labels = three_labels(frame)
    model = lgb.LGBMClassifier(n_estimators=60, num_leaves=7, learning_rate=0.5, verbose=-1, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eval_set is deprecated in 4.7, eval_X missing before it
        model.fit(
            frame[:180],
            labels[:180],
            eval_set=[(frame[180:], labels[180:])],
            callbacks=[lgb.early_stopping(2, verbose=False)],
        )
    return model, {}


def lgb_regressor() -> tuple[Any, dict[str, Any]]:
    import lightgbm as lgb

    frame = numeric_part(mixed_frame())
    y = frame["x1"] * 3 + (frame["color"] == "blue")
    return lgb.LGBMRegressor(n_estimators=TREES, num_leaves=7, verbose=-1, n_jobs=1).fit(frame, y), {}


def lgb_ranker() -> tuple[Any, dict[str, Any]]:
    import lightgbm as lgb

    X = numeric()
    relevance = np.clip(np.round(target(X)), 0, 4).astype(int)
    model = lgb.LGBMRanker(n_estimators=TREES, num_leaves=7, verbose=-1, n_jobs=1, min_child_samples=5)
    return model.fit(X, relevance, group=[12] * (N_ROWS // 12)), {}


def lgb_booster() -> tuple[Any, dict[str, Any]]:
    import lightgbm as lgb

    frame = numeric_part(mixed_frame())
    data = lgb.Dataset(frame, label=(frame["x1"] > 0).astype(int))
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1}
    return lgb.train(params, data, num_boost_round=TREES), {}


# -- catboost -----------------------------------------------------------------------


def _catboost_args() -> dict[str, Any]:
    return {"iterations": TREES, "depth": 3, "verbose": 0, "allow_writing_files": False, "thread_count": 1}


def cb_classifier_strings() -> tuple[Any, dict[str, Any]]:
    import catboost as cb

    frame = mixed_frame()
    model = cb.CatBoostClassifier(**_catboost_args(), cat_features=["color", "city"])
    return model.fit(frame, np.where(frame["city"] == "oslo", "north", "south")), {}


def cb_classifier_multiclass() -> tuple[Any, dict[str, Any]]:
    import catboost as cb

    frame = mixed_frame()
    labels = label_codes(three_labels(frame)) + 3  # 3, 4, 5: not 0..k-1
    model = cb.CatBoostClassifier(**_catboost_args(), cat_features=["color", "city"])
    return model.fit(frame, labels), {}


def cb_regressor() -> tuple[Any, dict[str, Any]]:
    import catboost as cb

    frame = mixed_frame()
    model = cb.CatBoostRegressor(**_catboost_args(), cat_features=["color", "city"])
    return model.fit(frame, frame["x1"] * 2 + (frame["city"] == "lima")), {}


def cb_core() -> tuple[Any, dict[str, Any]]:
    import catboost as cb

    X = numeric()
    return cb.CatBoost({**_catboost_args(), "loss_function": "RMSE"}).fit(X, target(X)), {}


# -- scikit-learn -------------------------------------------------------------------


def sk_pipeline() -> tuple[Any, dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = numeric()
    labels = np.digitize(target(X), [-1, 1])
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)).fit(X, labels), {}


def sk_pipeline_with_xgboost() -> tuple[Any, dict[str, Any]]:
    import xgboost as xgb
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = numeric()
    model = make_pipeline(StandardScaler(), xgb.XGBClassifier(n_estimators=TREES, max_depth=3, n_jobs=1))
    return model.fit(X, (target(X) > 0).astype(int)), {}


def sk_forest() -> tuple[Any, dict[str, Any]]:
    from sklearn.ensemble import RandomForestRegressor

    X = numeric()
    return RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X, target(X)), {}


# -- torch --------------------------------------------------------------------------


def torch_inputs() -> np.ndarray:
    return numeric(seed=1, n=32).astype(np.float32)


def trained_mlp() -> Any:
    import torch_models

    return torch_models.trained_mlp()


def torch_state_dict() -> tuple[Any, dict[str, Any]]:
    import torch_models

    return trained_mlp(), {"torch_format": "state_dict", "model_factory": torch_models.make_mlp, **TORCH_TAGS}


def torch_module() -> tuple[Any, dict[str, Any]]:
    return trained_mlp(), {"torch_format": "module", **TORCH_TAGS}


def torch_scripted() -> tuple[Any, dict[str, Any]]:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(trained_mlp()), dict(TORCH_TAGS)


def torch_traced() -> tuple[Any, dict[str, Any]]:
    import torch

    model = trained_mlp().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.trace(model, torch.as_tensor(torch_inputs())), dict(TORCH_TAGS)


def torch_scripted_on_save() -> tuple[Any, dict[str, Any]]:
    return trained_mlp(), {"torch_format": "torchscript", **TORCH_TAGS}


CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case(
            "python-scorer",
            "python",
            "cloudpickle",
            python_scorer,
            numeric,
            estimator_outputs,
            estimator_predictions,
            uses_pickle=True,
        ),
        Case(
            "xgb-classifier-binary",
            "xgboost",
            "xgboost-ubjson",
            xgb_classifier_binary,
            numeric,
            estimator_outputs,
            estimator_predictions,
        ),
        Case(
            "xgb-classifier-categorical",
            "xgboost",
            "xgboost-ubjson",
            xgb_classifier_categorical,
            lambda: numeric_part(mixed_frame(seed=5)),
            estimator_outputs,
            estimator_predictions,
        ),
        Case(
            "xgb-regressor-early-stopping",
            "xgboost",
            "xgboost-ubjson",
            xgb_regressor_early_stopping,
            numeric,
            estimator_outputs,
            estimator_predictions,
        ),
        Case("xgb-ranker", "xgboost", "xgboost-ubjson", xgb_ranker, numeric, estimator_outputs, estimator_predictions),
        Case(
            "xgb-rf-classifier",
            "xgboost",
            "xgboost-ubjson",
            xgb_rf_classifier,
            numeric,
            estimator_outputs,
            estimator_predictions,
        ),
        Case(
            "xgb-booster",
            "xgboost",
            "xgboost-ubjson",
            xgb_booster,
            lambda: numeric_part(mixed_frame(seed=5)),
            xgb_booster_outputs,
            xgb_softprob_predictions,
        ),
        Case(
            "lgb-classifier-binary-strings",
            "lightgbm",
            "lightgbm-text",
            lgb_classifier_binary_strings,
            numeric,
            estimator_outputs,
            estimator_predictions,
        ),
        Case(
            "lgb-classifier-categorical",
            "lightgbm",
            "lightgbm-text",
            lgb_classifier_categorical,
            lambda: numeric_part(mixed_frame(seed=5)),
            estimator_outputs,
            estimator_predictions,
        ),
        Case(
            "lgb-regressor",
            "lightgbm",
            "lightgbm-text",
            lgb_regressor,
            lambda: numeric_part(mixed_frame(seed=5)),
            estimator_outputs,
            estimator_predictions,
        ),
        Case("lgb-ranker", "lightgbm", "lightgbm-text", lgb_ranker, numeric, estimator_outputs, estimator_predictions),
        Case(
            "lgb-booster",
            "lightgbm",
            "lightgbm-text",
            lgb_booster,
            lambda: numeric_part(mixed_frame(seed=5)),
            lgb_booster_outputs,
            lgb_binary_predictions,
        ),
        Case(
            "cb-classifier-strings",
            "catboost",
            "catboost-cbm",
            cb_classifier_strings,
            lambda: mixed_frame(seed=5),
            estimator_outputs,
            estimator_predictions,
        ),
        Case(
            "cb-classifier-multiclass",
            "catboost",
            "catboost-cbm",
            cb_classifier_multiclass,
            lambda: mixed_frame(seed=5),
            estimator_outputs,
            estimator_predictions,
        ),
        Case(
            "cb-regressor",
            "catboost",
            "catboost-cbm",
            cb_regressor,
            lambda: mixed_frame(seed=5),
            estimator_outputs,
            estimator_predictions,
        ),
        Case("cb-core", "catboost", "catboost-cbm", cb_core, numeric, catboost_core_outputs, estimator_predictions),
        Case(
            "sk-pipeline",
            "sklearn",
            "cloudpickle",
            sk_pipeline,
            numeric,
            estimator_outputs,
            estimator_predictions,
            uses_pickle=True,
        ),
        Case(
            "sk-pipeline-with-xgboost",
            "sklearn",
            "cloudpickle",
            sk_pipeline_with_xgboost,
            numeric,
            estimator_outputs,
            estimator_predictions,
            uses_pickle=True,
        ),
        Case(
            "sk-forest",
            "sklearn",
            "cloudpickle",
            sk_forest,
            numeric,
            estimator_outputs,
            estimator_predictions,
            uses_pickle=True,
        ),
        Case(
            "torch-state-dict",
            "torch",
            "torch-state-dict",
            torch_state_dict,
            torch_inputs,
            torch_outputs,
            torch_logits_predictions,
        ),
        Case(
            "torch-module",
            "torch",
            "torch-module",
            torch_module,
            torch_inputs,
            torch_outputs,
            torch_logits_predictions,
            uses_pickle=True,
        ),
        Case(
            "torch-scripted",
            "torch",
            "torchscript",
            torch_scripted,
            torch_inputs,
            torch_outputs,
            torch_logits_predictions,
        ),
        Case(
            "torch-traced", "torch", "torchscript", torch_traced, torch_inputs, torch_outputs, torch_logits_predictions
        ),
        Case(
            "torch-scripted-on-save",
            "torch",
            "torchscript",
            torch_scripted_on_save,
            torch_inputs,
            torch_outputs,
            torch_logits_predictions,
        ),
    ]
}


def reference_outputs(case: Case, model: Any) -> dict[str, Any]:
    """The original model's outputs, in eval mode for torch (what a loaded model is in)."""
    if case.flavor == "torch":
        model.eval()
    return case.outputs(model, case.inputs())


def main(argv: list[str]) -> int:
    """Child process: load ``URI`` from registry ``ROOT``, write the case's outputs to ``OUT``."""
    root, uri, name, out = argv
    from fsregistry import CustomModelRegistry

    case = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load is deprecated upstream
        data = CustomModelRegistry(root).load_model(uri)
    model = data["model"]
    from fsregistry import ModelPredictor

    predictor = ModelPredictor(CustomModelRegistry(root)).load_model(uri)
    predictions = {"default": predictor.predict(case.inputs())}
    if predictor.get_model_info()["task"] == "classifier":
        predictions["labels"] = predictor.predict(case.inputs(), return_probabilities=False)
    result = {
        "outputs": case.outputs(model, case.inputs()),
        "predictions": predictions,
        "flavor": data["flavor"],
        "format": data["model_format"],
        "loaded_class": f"{type(model).__module__}.{type(model).__qualname__}",
    }
    Path(out).write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
