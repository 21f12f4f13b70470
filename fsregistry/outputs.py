"""How a loaded model turns preprocessed features into predictions.

Two adapters give the predictor one vocabulary (``task``, ``classes``,
``probabilities``, ``labels``, ``values``) whatever the framework:

* :class:`EstimatorAdapter` for anything with the scikit-learn API (scikit-learn,
  XGBoost, LightGBM, CatBoost estimators, pipelines): a model with ``predict_proba`` is
  a classifier, one without is a regressor;
* :class:`TorchAdapter` for ``torch.nn.Module`` models, which cannot say by themselves
  whether their output is logits, probabilities or plain values, so they must declare it
  (see :func:`declared_output_kind`).

torch is imported only inside :class:`TorchAdapter`, i.e. only when the loaded model is
already a torch module (so torch is already imported); scikit-learn models never cause it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any, Protocol

import numpy as np

from .errors import PredictorError

OUTPUT_KINDS = ("logits", "probabilities", "values")
_TORCH_MODULE = "torch.nn.modules.module.Module"


class Adapter(Protocol):
    """What the predictor needs from a model."""

    #: ``"classifier"``, ``"regressor"`` or ``"unknown"`` (a torch model with no output_kind)
    task: str
    #: original class labels in output column order, when known
    classes: list[Any] | None

    def probabilities(self, Xt: Any) -> np.ndarray:
        """Class probabilities, shape ``(n, k)``."""
        ...

    def labels(self, Xt: Any) -> np.ndarray:
        """Predicted original class labels, shape ``(n,)``."""
        ...

    def values(self, Xt: Any) -> np.ndarray:
        """Regression output, ``(n,)`` or ``(n, m)`` for several targets."""
        ...


def type_paths(obj: Any) -> tuple[str, ...]:
    """``module.qualname`` of every class in ``type(obj).__mro__``; imports nothing."""
    return tuple(f"{cls.__module__}.{cls.__qualname__}" for cls in type(obj).__mro__)


def is_torch_module(model: Any) -> bool:
    """True for a ``torch.nn.Module`` instance, decided without importing torch."""
    return _TORCH_MODULE in type_paths(model)


def declared_output_kind(model: Any, tags: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    """The output kind a model declares: its ``output_kind`` attribute, else the version's
    ``output_kind`` tag, else its ``output_kind`` param; ``None`` when undeclared."""
    for source in (getattr(model, "output_kind", None), tags.get("output_kind"), params.get("output_kind")):
        if source is None:
            continue
        kind = str(source).lower()
        if kind not in OUTPUT_KINDS:
            raise PredictorError(f"output_kind {source!r} is not one of {OUTPUT_KINDS}")
        return kind
    return None


def adapter_for(model: Any, output_kind: str | None, classes_hint: Sequence[Any] | None) -> Adapter:
    """The adapter for ``model``; ``classes_hint`` are the original labels from the signature."""
    hint = list(classes_hint) if classes_hint else None
    if is_torch_module(model):
        return TorchAdapter(model, output_kind, hint)
    if not callable(getattr(model, "predict", None)):
        raise PredictorError(f"a {type(model).__name__} has no predict method; the predictor cannot use it")
    return EstimatorAdapter(model, hint)


def _decoder(model_classes: Any, hint: list[Any] | None) -> list[Any] | None:
    """Original labels for a model trained on encoded targets 0..k-1, else ``None``."""
    if hint is None or model_classes is None:
        return None
    known = np.asarray(model_classes)
    if known.dtype.kind not in "iu" or len(known) != len(hint) or list(known) == hint:
        return None
    return hint if np.array_equal(known, np.arange(len(hint))) else None


def _take(labels: list[Any], index: np.ndarray) -> np.ndarray:
    return np.asarray(labels, dtype=object if _mixed(labels) else None)[index.astype(np.intp)]


def _mixed(labels: list[Any]) -> bool:
    return len({type(v) for v in labels}) > 1


class EstimatorAdapter:
    """A model with the scikit-learn API."""

    def __init__(self, model: Any, hint: list[Any] | None) -> None:
        self.model = model
        self.task = "classifier" if callable(getattr(model, "predict_proba", None)) else "regressor"
        model_classes = getattr(model, "classes_", None)
        self._decode = _decoder(model_classes, hint)
        known = np.asarray(model_classes).tolist() if model_classes is not None else hint
        self.classes: list[Any] | None = self._decode or known

    def probabilities(self, Xt: Any) -> np.ndarray:
        proba = np.asarray(self.model.predict_proba(Xt))
        return proba.reshape(-1, 1) if proba.ndim == 1 else proba

    def labels(self, Xt: Any) -> np.ndarray:
        pred = np.asarray(self.model.predict(Xt)).reshape(-1)
        return _take(self._decode, pred) if self._decode is not None else pred

    def values(self, Xt: Any) -> np.ndarray:
        return np.asarray(self.model.predict(Xt))


class TorchAdapter:
    """A ``torch.nn.Module``: float32 input on the module's device, eval mode, no grad."""

    def __init__(self, module: Any, output_kind: str | None, hint: list[Any] | None) -> None:
        self.module = module
        self.output_kind = output_kind
        self.task = {"values": "regressor", None: "unknown"}.get(output_kind, "classifier")
        declared = getattr(module, "classes_", None)
        self.classes: list[Any] | None = hint or (list(declared) if declared is not None else None)

    def forward(self, Xt: Any) -> np.ndarray:
        """Run the module on ``Xt``; 2-D float output ``(n, outputs)``."""
        import torch

        batch = torch.from_numpy(_dense_float32(Xt)).to(_device(self.module))
        self.module.eval()
        with torch.no_grad():
            out = self.module(batch)
        if not isinstance(out, torch.Tensor):
            raise PredictorError(f"the torch model returned a {type(out).__name__}; expected one tensor")
        result = out.detach().float().cpu().numpy()
        return result.reshape(len(result), -1)

    def probabilities(self, Xt: Any) -> np.ndarray:
        out = self.forward(Xt).astype(np.float64)
        if out.shape[1] == 1:
            positive = _sigmoid(out[:, 0]) if self.output_kind == "logits" else out[:, 0]
            return np.column_stack([1.0 - positive, positive])
        return _softmax(out) if self.output_kind == "logits" else out

    def labels(self, Xt: Any) -> np.ndarray:
        proba = self.probabilities(Xt)
        index = np.argmax(proba, axis=1)
        if self.classes is not None and len(self.classes) == proba.shape[1]:
            return _take(self.classes, index)
        return index

    def values(self, Xt: Any) -> np.ndarray:
        out = self.forward(Xt)
        return out[:, 0] if out.shape[1] == 1 else out


def _dense_float32(Xt: Any) -> np.ndarray:
    """Preprocessed features as one contiguous float32 array (sparse output is densified)."""
    if callable(getattr(Xt, "toarray", None)):
        Xt = Xt.toarray()
    elif callable(getattr(Xt, "to_numpy", None)):
        Xt = Xt.to_numpy(dtype=np.float32)
    return np.ascontiguousarray(np.asarray(Xt, dtype=np.float32))


def _device(module: Any) -> Any:
    """The device of the module's first parameter (or buffer); CPU for a stateless module."""
    first = next(chain(module.parameters(), module.buffers()), None)
    return first.device if first is not None else "cpu"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
