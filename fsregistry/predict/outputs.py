"""How a loaded model turns preprocessed features into predictions.

Three adapters give the predictor one vocabulary (``task``, ``classes``,
``probabilities``, ``labels``, ``values``) whatever the framework:

* :class:`EstimatorAdapter` for anything with the scikit-learn API (scikit-learn,
  XGBoost, LightGBM, CatBoost estimators, pipelines): a model with ``predict_proba`` is
  a classifier, one without is a regressor;
* :class:`BoosterAdapter` for raw XGBoost and LightGBM ``Booster`` objects, whose
  objective says whether they classify (``binary...``, ``multi...``, LightGBM's
  ``cross_entropy...``).  What their ``predict`` returns depends on the objective
  (probabilities, margins, class indexes, or labels only for ``binary:hinge``); the
  adapter turns it into probabilities where the objective has them;
* :class:`TorchAdapter` for ``torch.nn.Module`` models, which cannot say by themselves
  whether their output is logits, probabilities or plain values, so they must declare it
  (see :func:`declared_output_kind`).

Class labels (:func:`class_map`): a model whose classes are the labels themselves is
decoded with its own classes; a model that predicts class indexes ``0..k-1`` (no classes
of its own, or classes that are exactly ``0..k-1``) is decoded with the signature's labels
in their recorded encoding order (a Categorical's categories, else sorted order, which is
scikit-learn's ``LabelEncoder`` order).  The sorted-order case is an assumption the model
cannot confirm, so it comes with a ``note`` that the predictor turns into a warning at
load time; so does a signature that records classes for a model served as a regressor.

torch and xgboost are imported only inside their adapters, i.e. only when the loaded
model is already one of theirs (so the framework is already imported).
"""

from __future__ import annotations

import json
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..errors import ClassOrderWarning, PredictorError
from ..records.signature import plain

OUTPUT_KINDS = ("logits", "probabilities", "values")

_TORCH_MODULE = "torch.nn.modules.module.Module"
_XGB_BOOSTER = "xgboost.core.Booster"
_LGB_BOOSTER = "lightgbm.basic.Booster"


class Adapter(Protocol):
    """What the predictor needs from a model."""

    #: ``"classifier"``, ``"regressor"`` or ``"unknown"`` (a torch model with no output_kind)
    task: str
    #: original class labels in output column order, when known
    classes: list[Any] | None
    #: an assumption about the labels the caller should hear about (warned at load)
    note: str | None

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


def adapter_for(model: Any, output_kind: str | None, output: Mapping[str, Any] | None) -> Adapter:
    """The adapter for ``model``; ``output`` is the signature's output (kind, classes...)."""
    output = output or {}
    adapter: Adapter
    if is_torch_module(model):
        adapter = TorchAdapter(model, output_kind, output)
    elif is_booster(model):
        adapter = BoosterAdapter(model, output)
    elif callable(getattr(model, "predict", None)):
        adapter = EstimatorAdapter(model, output)
    else:
        raise PredictorError(f"a {type(model).__name__} has no predict method; the predictor cannot use it")
    if adapter.task == "regressor" and output.get("kind") == "classes":
        adapter.note = _join(adapter.note, _not_a_classifier(model, adapter, output))
    return adapter


def _not_a_classifier(model: Any, adapter: Adapter, output: Mapping[str, Any]) -> str:
    """The note for a model served as a regressor whose signature records class labels."""
    objective = getattr(adapter, "objective", None)
    why = f"its objective {objective!r} does not classify" if objective else "it gives no class probabilities"
    return (
        f"the signature records class labels {_brief(list(output.get('classes') or []))} but the "
        f"{type(model).__name__} is served as a regressor ({why}); predict returns its raw values, "
        "which are not decoded to those labels"
    )


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def is_booster(model: Any) -> bool:
    """True for a raw XGBoost or LightGBM ``Booster``, decided without importing either."""
    return bool({_XGB_BOOSTER, _LGB_BOOSTER} & set(type_paths(model)))


# -- class labels -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassMap:
    """How a model's classes become the original labels.

    ``model_classes`` are what the model predicts, in probability-column order (``0..k-1``
    for a model without ``classes_``); ``labels`` the original label of each; ``note`` an
    assumption about them worth a warning.
    """

    model_classes: list[Any] | None
    labels: list[Any] | None
    note: str | None = None

    @property
    def decodes(self) -> bool:
        if self.labels is None or self.model_classes is None:
            return False
        return [(_family(v), v) for v in self.labels] != [(_family(v), v) for v in self.model_classes]

    def decode(self, predicted: np.ndarray) -> np.ndarray:
        """Original labels for the class values a model predicted; a value that is not
        one of its classes is an error (never a chunk left undecoded among decoded ones)."""
        if not self.decodes or self.labels is None or self.model_classes is None:
            return predicted
        index = pd.Index(np.asarray(self.model_classes)).get_indexer(pd.Index(predicted))
        if (index < 0).any():
            unknown = [plain(v) for v in pd.unique(np.asarray(predicted)[index < 0])[:5]]
            raise PredictorError(
                f"the model predicted {unknown}, which are not among its classes {_brief(self.model_classes)}; "
                "cannot decode them to the signature's labels"
            )
        return _take(self.labels, index)

    def by_index(self, index: np.ndarray) -> np.ndarray:
        """Original labels for probability-column indexes."""
        return _take(self.labels, index) if self.labels is not None else index


def class_map(model_classes: Any, output: Mapping[str, Any], n_classes: int | None = None) -> ClassMap:
    """Labels for a model's classes (``model_classes``; ``None``: indexes ``0..n_classes-1``)
    from the signature's ``output`` (``classes`` in encoding order, ``class_order``).

    Classes ``0..k-1`` (made up for a model without classes, or an XGBoost ``classes_``)
    are class indexes: they are decoded in the order the signature records (a Categorical's
    categories first).  Other classes are the model's own labels and win over the
    signature's.
    """
    hint = list(output["classes"]) if output.get("classes") else None
    categorical = output.get("class_order") == "categories"
    if model_classes is not None:
        known = [plain(v) for v in np.asarray(model_classes).tolist()]
    elif hint is not None or n_classes is not None:
        known = list(range(n_classes if n_classes is not None else len(hint or ())))
    else:
        return ClassMap(None, None)
    if hint is None:
        return ClassMap(known, known)
    made_up = model_classes is None
    if _is_indexes(known) and (made_up or categorical):
        return _by_encoding(known, hint, categorical)
    if not made_up and _keys(known) <= _keys(hint):
        return ClassMap(known, known)  # the model's own classes are the labels
    return _encoded(known, hint, categorical)


def _encoded(known: list[Any], hint: list[Any], categorical: bool) -> ClassMap:
    """Labels for a model whose classes are not among the signature's labels."""
    if _is_indexes(known):
        return _by_encoding(known, hint, categorical)
    by_text = None if categorical else _text_match(known, hint)
    if by_text is not None:
        return ClassMap(known, by_text)  # the model's own classes, written as text: "1" was trained as 1
    if categorical and all(_is_int(k) and 0 <= k < len(hint) for k in known):
        return ClassMap(known, [hint[k] for k in known])  # codes, some never seen in training
    return ClassMap(known, known, _not_decoded(known, hint))


def _by_encoding(known: list[int], hint: list[Any], categorical: bool) -> ClassMap:
    """Class indexes ``0..k-1`` read in the signature's encoding order: a Categorical's
    categories, else sorted order (scikit-learn's ``LabelEncoder``, ``np.unique``)."""
    if categorical and len(known) <= len(hint):
        return ClassMap(known, hint[: len(known)])
    if len(known) != len(hint):
        return ClassMap(known, known, _not_decoded(known, hint))
    if _identity(hint):
        return ClassMap(known, hint)
    by_value = _text_match(known, hint)
    if by_value == hint:
        return ClassMap(known, hint)  # "0".."9": read by value or sorted, the same labels
    return ClassMap(known, hint, _assumed(known, hint, by_value))


def _text_match(known: list[Any], hint: list[Any]) -> list[Any] | None:
    """The signature's labels matched to ``known`` by their text (``"1"`` for ``1``), or
    ``None`` when they do not match one to one."""
    by_text = {str(h): h for h in hint}
    if len(by_text) == len(hint) and {str(k) for k in known} == set(by_text):
        return [by_text[str(k)] for k in known]
    return None


def _not_decoded(known: list[Any], hint: list[Any]) -> str:
    if all(_is_int(k) for k in known):
        return (
            f"the model has classes {_brief(known)} but the signature records "
            f"{len(hint)} labels {_brief(hint)}; labels are not decoded"
        )
    return (
        f"the signature's labels {_brief(hint)} are not the model's classes "
        f"{_brief(known)}; predictions are the model's own classes"
    )


def _assumed(known: list[Any], hint: list[Any], by_value: list[Any] | None) -> str:
    pairs = ", ".join(f"{k!r} -> {h!r}" for k, h in list(zip(known, hint, strict=True))[:6])
    more = ", ..." if len(hint) > 6 else ""
    text = (
        " The labels are the class indexes written as text, but their sorted order is another: "
        "sorted order is used, as LabelEncoder would have encoded them."
        if by_value is not None
        else ""
    )
    return (
        f"the model predicts class indexes {_brief(known)} and the signature records the labels "
        f"{_brief(hint)} without their encoding; assuming sorted label order (scikit-learn's "
        f"LabelEncoder): {pairs}{more}.{text} If the model was trained with another encoding, save the "
        "signature as infer_signature(X, pd.Categorical(y, categories=[label of 0, label of 1, ...]))"
    )


def _brief(values: list[Any]) -> str:
    return repr(values) if len(values) <= 10 else f"{repr(values[:10])[:-1]}, ...] ({len(values)} in all)"


def _keys(values: list[Any]) -> set[tuple[str, Any]]:
    """Labels compared by value within a family: ``1 == 1.0``, but ``True`` is not ``1``
    and ``"1"`` is not ``1``."""
    return {(_family(v), v) for v in values}


def _family(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Number):
        return "number"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_indexes(known: list[Any]) -> bool:
    """Classes ``0..k-1``, which may be class indexes rather than labels."""
    return all(_is_int(k) and k == i for i, k in enumerate(known))


def _identity(hint: list[Any]) -> bool:
    """Labels that are their own index (``[False, True]``, ``[0, 1, 2]``): nothing to assume."""
    return all(isinstance(h, numbers.Number) and h == i for i, h in enumerate(hint))


def _take(labels: list[Any], index: np.ndarray) -> np.ndarray:
    return np.asarray(labels, dtype=object if _mixed(labels) else None)[index.astype(np.intp)]


def _mixed(labels: list[Any]) -> bool:
    return len({type(v) for v in labels}) > 1


def _label_index(proba: np.ndarray) -> np.ndarray:
    """The predicted class index: p >= 0.5 for two classes (a tie is class 1), else argmax."""
    if proba.shape[1] == 2:
        return (proba[:, 1] >= 0.5).astype(np.intp)
    return np.argmax(proba, axis=1)


# -- adapters -----------------------------------------------------------------------------


class EstimatorAdapter:
    """A model with the scikit-learn API."""

    def __init__(self, model: Any, output: Mapping[str, Any]) -> None:
        self.model = model
        self.task = "classifier" if callable(getattr(model, "predict_proba", None)) else "regressor"
        self._classes = _estimator_classes(getattr(model, "classes_", None), output, self.task)
        self.classes: list[Any] | None = self._classes.labels
        self.note = self._classes.note

    def probabilities(self, Xt: Any) -> np.ndarray:
        proba = np.asarray(self.model.predict_proba(Xt))
        return proba.reshape(-1, 1) if proba.ndim == 1 else proba

    def labels(self, Xt: Any) -> np.ndarray:
        return self._classes.decode(np.asarray(self.model.predict(Xt)).reshape(-1))

    def values(self, Xt: Any) -> np.ndarray:
        return np.asarray(self.model.predict(Xt))


def _estimator_classes(model_classes: Any, output: Mapping[str, Any], task: str) -> ClassMap:
    """A classifier without ``classes_`` predicts whatever it predicts: the signature's
    labels only name its probability columns."""
    if task != "classifier":
        return ClassMap(None, None)
    if model_classes is None:
        hint = list(output["classes"]) if output.get("classes") else None
        return ClassMap(hint, hint)
    return class_map(model_classes, output)


#: XGBoost objectives that classify -> what ``Booster.predict`` returns for them
_XGB_CLASSIFIERS = {
    "binary:logistic": "probabilities",
    "binary:logitraw": "logits",
    "binary:hinge": "labels",  # 0 or 1, no probabilities
    "multi:softprob": "probabilities",
    "multi:softmax": "logits",  # predicts the class index; margins give the probabilities
}
#: LightGBM objectives (and their aliases) that classify -> ``(family, what predict returns)``
_LGB_CLASSIFIERS = {
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


class BoosterAdapter:
    """A raw XGBoost or LightGBM ``Booster``: a classifier when its objective classifies
    (probabilities from ``predict``, or from its margins for ``logitraw``, ``softmax`` and
    ``cross_entropy_lambda``; ``binary:hinge`` gives labels only; labels are p >= 0.5 for
    two classes, else the argmax), else a regressor whose ``predict`` gives the values."""

    def __init__(self, model: Any, output: Mapping[str, Any]) -> None:
        self.model = model
        self._xgb = _XGB_BOOSTER in type_paths(model)
        self.objective, self._proba_kind, n_classes = _xgb_task(model) if self._xgb else _lgb_task(model)
        self.task = "regressor" if self._proba_kind is None else "classifier"
        self._classes = class_map(None, output, n_classes) if self.task == "classifier" else ClassMap(None, None)
        self.classes: list[Any] | None = self._classes.labels
        self.note = self._classes.note

    def _predict(self, Xt: Any, margin: bool = False) -> np.ndarray:
        if not self._xgb:
            return np.asarray(self.model.predict(Xt, raw_score=margin))
        return np.asarray(self.model.predict(_dmatrix(self.model, Xt), output_margin=margin))

    def probabilities(self, Xt: Any) -> np.ndarray:
        if self._proba_kind == "labels":
            raise PredictorError(
                f"the booster's objective {self.objective!r} predicts class labels only, no probabilities; "
                "call predict(X, return_probabilities=False)"
            )
        out = self._predict(Xt, margin=self._proba_kind == "logits")
        out = out.reshape(len(out), -1)
        if self._proba_kind == "logits":
            out = out.astype(np.float64)
            out = _sigmoid(out) if out.shape[1] == 1 else _softmax(out)
        if out.shape[1] == 1:
            return np.column_stack([1.0 - out[:, 0], out[:, 0]])
        return out

    def labels(self, Xt: Any) -> np.ndarray:
        if self._proba_kind == "labels":
            return self._classes.by_index(self._predict(Xt).reshape(-1).astype(np.intp))
        return self._classes.by_index(_label_index(self.probabilities(Xt)))

    def values(self, Xt: Any) -> np.ndarray:
        return self._predict(Xt)


def _xgb_task(booster: Any) -> tuple[str, str | None, int | None]:
    """``(objective, what predict returns for a classifier or None, class count)``."""
    learner = json.loads(booster.save_config())["learner"]
    objective = str(learner["objective"]["name"])
    n_classes = int(learner.get("learner_model_param", {}).get("num_class", 0) or 0)
    kind = _XGB_CLASSIFIERS.get(objective)
    return objective, kind, (n_classes if n_classes > 1 else 2) if kind else None


def _lgb_task(booster: Any) -> tuple[str, str | None, int | None]:
    params = getattr(booster, "params", None) or {}
    objective = next(
        (params[k] for k in ("objective", "objective_type", "app", "application", "loss") if params.get(k)),
        "regression",
    )
    found = _LGB_CLASSIFIERS.get(str(objective).lower()) if isinstance(objective, str) else None
    if found is None:
        return str(objective), None, None
    family, kind = found
    n_classes = 2 if family == "binary" else int(booster.num_model_per_iteration())
    return str(objective), kind, n_classes


def _dmatrix(booster: Any, Xt: Any) -> Any:
    """An ``xgboost.DMatrix`` of ``Xt``: a DataFrame keeps its column names and categorical
    columns, in the booster's own feature order when it has every one of them (a signature
    may list them in another order); an array gets the booster's own feature names."""
    import xgboost

    if isinstance(Xt, xgboost.DMatrix):
        return Xt
    names = booster.feature_names
    if isinstance(Xt, pd.DataFrame):
        if names is not None and list(Xt.columns) != names and set(names) <= set(Xt.columns):
            Xt = Xt[names]
        return xgboost.DMatrix(Xt, enable_categorical=True)
    width = Xt.shape[1] if np.ndim(Xt) == 2 else None
    fit = names is not None and width == len(names)
    return xgboost.DMatrix(Xt, feature_names=names if fit else None)


class TorchAdapter:
    """A ``torch.nn.Module``: float32 input on the module's device, eval mode, no grad.

    Without ``classes_`` on the module, the signature's labels name its outputs only if
    it has one output per label (one output for two classes), which is known after the
    first forward: until then :attr:`classes` are the labels assumed, and if the width
    disagrees they become the output indexes, with a :class:`ClassOrderWarning`.
    """

    def __init__(self, module: Any, output_kind: str | None, output: Mapping[str, Any]) -> None:
        self.module = module
        self.output_kind = output_kind
        self.task = {"values": "regressor", None: "unknown"}.get(output_kind, "classifier")
        declared = getattr(module, "classes_", None)
        self._output = output
        self._unchecked = self.task != "regressor" and declared is None and bool(output.get("classes"))
        self._classes = class_map(declared, output) if self.task != "regressor" else ClassMap(None, None)
        self.classes: list[Any] | None = self._classes.labels
        note = self._classes.note if self.task == "classifier" else None
        if note and self._unchecked:
            note += f" (if the module has {len(self.classes or ())} outputs; checked on the first prediction)"
        self.note = note

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
            proba = np.column_stack([1.0 - positive, positive])
        else:
            proba = _softmax(out) if self.output_kind == "logits" else out
        self._settle(proba.shape[1])
        return proba

    def _settle(self, width: int) -> None:
        """On the first forward, keep the assumed labels only if there is one per output."""
        if not self._unchecked:
            return
        self._unchecked = False
        if self.classes is not None and len(self.classes) == width:
            return
        self._classes = class_map(None, self._output, width)
        self.classes = self._classes.labels
        if self._classes.note:
            warnings.warn(
                f"the torch module has {width} outputs: {self._classes.note}", ClassOrderWarning, stacklevel=2
            )

    def labels(self, Xt: Any) -> np.ndarray:
        proba = self.probabilities(Xt)
        index = _label_index(proba)
        if self.classes is not None and len(self.classes) == proba.shape[1]:
            return self._classes.by_index(index)
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
