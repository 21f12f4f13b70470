"""How models predict: the parts of :class:`~fsregistry.flavors.base.ModelOutputs` that
several flavors share.

* :class:`EstimatorOutputs` for anything with the scikit-learn API (scikit-learn models
  and pipelines, the XGBoost, LightGBM and CatBoost wrappers, a user's own estimator): a
  model with ``predict_proba`` is a classifier, one without is a regressor;
* :class:`BoosterOutputs`, the objective-driven part of raw XGBoost and LightGBM
  ``Booster`` objects: their ``predict`` gives probabilities, margins or class indexes
  depending on the objective, which each flavor reads (see ``xgboost.py``, ``lightgbm.py``);
* :func:`sigmoid` and :func:`softmax`, which turn margins or logits into probabilities.

numpy is imported inside the functions: they run only when a loaded model predicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import PredictorError

if TYPE_CHECKING:
    import numpy as np


class EstimatorOutputs:
    """A model with the scikit-learn API; its predicted labels are its own classes."""

    labels_from = "classes"
    n_classes: int | None = None
    objective: str | None = None
    output_kind: str | None = None

    def __init__(self, model: Any) -> None:
        self.model = model
        self.task = "classifier" if callable(getattr(model, "predict_proba", None)) else "regressor"
        self.classes: Any = getattr(model, "classes_", None)

    def probabilities(self, X: Any) -> np.ndarray:
        import numpy as np

        proba = np.asarray(self.model.predict_proba(X))
        return proba.reshape(-1, 1) if proba.ndim == 1 else proba

    def predict(self, X: Any) -> np.ndarray:
        import numpy as np

        return np.asarray(self.model.predict(X))


def estimator_outputs(model: Any) -> EstimatorOutputs | None:
    """The scikit-learn API's outputs of ``model``; ``None`` when it has no ``predict``."""
    return EstimatorOutputs(model) if callable(getattr(model, "predict", None)) else None


class BoosterOutputs:
    """A raw booster: a classifier when its objective classifies (probabilities from
    ``predict``, or from its margins when ``proba_kind`` is ``"logits"``; ``"labels"``
    gives class indexes only), else a regressor whose ``predict`` gives the values.
    Subclasses say how to call the framework (:meth:`raw`)."""

    classes: Any = None
    output_kind: str | None = None

    def __init__(self, model: Any, objective: str, proba_kind: str | None, n_classes: int | None) -> None:
        self.model = model
        self.objective: str | None = objective
        self._proba_kind = proba_kind
        self.task = "regressor" if proba_kind is None else "classifier"
        self.n_classes = n_classes
        self.labels_from = "indexes" if proba_kind == "labels" else "probabilities"

    def raw(self, X: Any, margin: bool) -> np.ndarray:
        """The framework's ``predict`` of ``X``: margins when ``margin``, else its output."""
        raise NotImplementedError

    def probabilities(self, X: Any) -> np.ndarray:
        import numpy as np

        if self._proba_kind == "labels":
            raise PredictorError(
                f"the booster's objective {self.objective!r} predicts class labels only, no probabilities; "
                "call predict(X, return_probabilities=False)"
            )
        out = self.raw(X, margin=self._proba_kind == "logits")
        out = out.reshape(len(out), -1)
        if self._proba_kind == "logits":
            out = out.astype(np.float64)
            out = sigmoid(out) if out.shape[1] == 1 else softmax(out)
        if out.shape[1] == 1:
            return np.column_stack([1.0 - out[:, 0], out[:, 0]])
        return out

    def predict(self, X: Any) -> np.ndarray:
        return self.raw(X, margin=False)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large margins."""
    import numpy as np

    return np.exp(-np.logaddexp(0.0, -x))


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits ``(n, k)``."""
    import numpy as np

    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
