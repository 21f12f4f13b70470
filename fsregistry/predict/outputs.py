"""How a loaded model turns preprocessed features into predictions: what every framework
shares.

Each flavor says how the models it loads predict (``outputs`` in
:mod:`fsregistry.flavors`: a task, the model's own classes or class count, probabilities,
its own ``predict``).  :class:`Adapter` wraps that in the predictor's one vocabulary
(``task``, ``classes``, ``probabilities``, ``labels``, ``values``) and adds what is the
same for every framework:

Class labels (:func:`class_map`): a model whose classes are the labels themselves is
decoded with its own classes; a model that predicts class indexes ``0..k-1`` (no classes
of its own, or classes that are exactly ``0..k-1``) is decoded with the signature's labels
in their recorded encoding order (a Categorical's categories, else sorted order, which is
scikit-learn's ``LabelEncoder`` order).  The sorted-order case is an assumption the model
cannot confirm, so it comes with a ``note`` that the predictor turns into a warning at
load time; so does a signature that records classes for a model served as a regressor.
A model that learns its class count only from its first output (a torch module without
``classes_``) has its labels checked then.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ClassOrderWarning, PredictorError
from ..flavors import ModelOutputs, outputs_for
from ..records.signature import plain

OUTPUT_KINDS = ("logits", "probabilities", "values")


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


def adapter_for(
    model: Any, declared_output_kind: Callable[[], str | None], output: Mapping[str, Any] | None
) -> Adapter:
    """The adapter for ``model``, from what its flavor says of its outputs; ``output`` is
    the signature's output (kind, classes...).  ``declared_output_kind`` is asked only by
    flavors whose models must declare it (torch)."""
    outputs = outputs_for(model, declared_output_kind)
    if outputs is None:
        raise PredictorError(f"a {type(model).__name__} has no predict method; the predictor cannot use it")
    return Adapter(model, outputs, output or {})


def _not_a_classifier(model: Any, adapter: Adapter, output: Mapping[str, Any]) -> str:
    """The note for a model served as a regressor whose signature records class labels."""
    objective = adapter.objective
    why = f"its objective {objective!r} does not classify" if objective else "it gives no class probabilities"
    return (
        f"the signature records class labels {_brief(list(output.get('classes') or []))} but the "
        f"{type(model).__name__} is served as a regressor ({why}); predict returns its raw values, "
        "which are not decoded to those labels"
    )


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


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


# -- the adapter ------------------------------------------------------------------------


class Adapter:
    """What the predictor needs from a model: its flavor's :class:`ModelOutputs`, with the
    model's classes mapped to the signature's labels."""

    def __init__(self, model: Any, outputs: ModelOutputs, output: Mapping[str, Any]) -> None:
        self.outputs = outputs
        #: ``"classifier"``, ``"regressor"`` or ``"unknown"`` (a torch model with no output_kind)
        self.task = outputs.task
        self.objective = outputs.objective
        self.output_kind = outputs.output_kind
        self._output = output
        self._classes = _classes_of(outputs, output)
        #: a class count learnt from the first output: the signature's labels are assumed
        #: until then, and replaced by output indexes if there is not one per output
        self._unchecked = (
            self.task != "regressor"
            and outputs.labels_from != "classes"
            and outputs.classes is None
            and outputs.n_classes is None
            and bool(output.get("classes"))
        )
        #: original class labels in output column order, when known
        self.classes: list[Any] | None = self._classes.labels
        note = self._classes.note if self.task == "classifier" else None
        if note and self._unchecked:
            note += f" (if the model has {len(self.classes or ())} outputs; checked on the first prediction)"
        if self.task == "regressor" and output.get("kind") == "classes":
            note = _join(note, _not_a_classifier(model, self, output))
        #: an assumption about the labels the caller should hear about (warned at load)
        self.note = note

    def probabilities(self, Xt: Any) -> np.ndarray:
        """Class probabilities, shape ``(n, k)``."""
        proba: np.ndarray = self.outputs.probabilities(Xt)
        self._settle(proba.shape[1])
        return proba

    def labels(self, Xt: Any) -> np.ndarray:
        """Predicted original class labels, shape ``(n,)``."""
        source = self.outputs.labels_from
        if source == "classes":
            return self._classes.decode(np.asarray(self.outputs.predict(Xt)).reshape(-1))
        if source == "indexes":
            return self._classes.by_index(np.asarray(self.outputs.predict(Xt)).reshape(-1).astype(np.intp))
        proba = self.probabilities(Xt)
        index = _label_index(proba)
        if self.classes is not None and len(self.classes) == proba.shape[1]:
            return self._classes.by_index(index)
        return index

    def values(self, Xt: Any) -> np.ndarray:
        """Regression output, ``(n,)`` or ``(n, m)`` for several targets."""
        return np.asarray(self.outputs.predict(Xt))

    def _settle(self, width: int) -> None:
        """On the first output, keep the assumed labels only if there is one per output."""
        if not self._unchecked:
            return
        self._unchecked = False
        if self.classes is not None and len(self.classes) == width:
            return
        self._classes = class_map(None, self._output, width)
        self.classes = self._classes.labels
        if self._classes.note:
            warnings.warn(f"the model has {width} outputs: {self._classes.note}", ClassOrderWarning, stacklevel=2)


def _classes_of(outputs: ModelOutputs, output: Mapping[str, Any]) -> ClassMap:
    """How the model's classes become labels.  A model whose predictions are its own class
    values but that has no ``classes_`` predicts whatever it predicts: the signature's
    labels only name its probability columns."""
    if outputs.task == "regressor":
        return ClassMap(None, None)
    if outputs.labels_from == "classes":
        if outputs.classes is None:
            hint = list(output["classes"]) if output.get("classes") else None
            return ClassMap(hint, hint)
        return class_map(outputs.classes, output)
    return class_map(outputs.classes, output, outputs.n_classes)
