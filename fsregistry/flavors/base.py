"""The contract every flavor module implements.

A flavor knows how to store one framework's models in that framework's best format and
how to bring them back.  It never touches the index or the registry layout: it is handed
a destination path for ``model.bin`` and returns a :class:`SavedModel` describing what it
wrote; the registry records that description in ``meta.json`` and hands it back on load.
A flavor also says how the models it loads predict (:class:`ModelOutputs`), so that the
predictor knows no framework.

Detection works on *type path strings* (``type(obj).__module__ + "." + qualname`` for
every class in the MRO), so choosing a flavor never imports a framework.  A flavor's
module imports its framework only inside ``save``, ``load`` and the methods of its outputs.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class SavedModel:
    """What a flavor wrote to ``model.bin``, recorded in ``meta.json`` under ``model``.

    ``format`` names the byte format (``"cloudpickle"``, ``"xgboost-ubjson"``, ...).
    ``uses_pickle`` says whether loading it runs the pickle machinery (and so must be
    refused when the registry refuses pickle).  ``model_class`` is the type path of the
    saved object; ``options`` is flavor-private JSON data needed to load it again.
    """

    format: str
    uses_pickle: bool
    model_class: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadOptions:
    """Caller's wishes for a load; flavors ignore what does not apply to them.

    ``device`` is a torch device string (``"cpu"`` by default).  ``model_factory`` builds
    an empty torch module for ``state_dict`` checkpoints.  ``run_recorded_code`` says
    whether a name recorded in ``meta.json`` (a factory, a class outside the framework) may
    be imported and called: the registry sets it to its ``allow_pickle``, because a stored
    name turned into code is as dangerous as a pickle.  It is off by default, so a flavor
    called directly runs nothing that stored data names.
    """

    device: str | None = None
    model_factory: Any = None
    run_recorded_code: bool = False


@runtime_checkable
class Flavor(Protocol):
    """One framework's persistence: detect, save, load, and what to record about it."""

    #: short name stored in ``meta.json`` (``"sklearn"``, ``"xgboost"``, ...)
    name: str
    #: pip extra that installs the framework (``pip install fsregistry[<extra>]``)
    extra: str
    #: distributions whose versions are recorded at save and compared at load
    packages: tuple[str, ...]

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        """True when an object with these MRO type paths belongs to this flavor."""
        ...

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        """Write ``model`` to ``path`` (the file ``model.bin``); do not fsync, the caller does."""
        ...

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        """Rebuild the model written by :meth:`save` from ``path``."""
        ...


#: writes a model to a binary stream and describes what it wrote (see ``stream_saver`` below)
StreamSave = Callable[[IO[bytes] | io.RawIOBase], SavedModel]

# A flavor whose framework writes to a binary stream may also define
# ``stream_saver(model, **kwargs) -> StreamSave | None``: it validates like ``save`` and
# returns a function that writes ``model`` to the stream it is given (or ``None`` when this
# model's format must be written to a path).  The registry then hashes ``model.bin`` while
# the framework writes it, instead of reading it back afterwards.  The stream cannot seek.
#
# A flavor may also define ``loads_with_pickle(saved) -> bool``.  The registry refuses a
# load when either ``meta.json`` or this method says it unpickles, so that an edited
# ``meta.json`` (an imported bundle, say) cannot slip a pickle past ``allow_pickle=False``.
# Every built-in flavor defines it; define it in yours if its load can unpickle.
#
# A flavor says how its models predict by defining
# ``outputs(model, declared_output_kind) -> ModelOutputs | None`` (see :class:`ModelOutputs`).
# The predictor asks the flavors whose ``detect`` accepts a loaded model, custom ones first,
# and takes the first answer that is not ``None``; the ``python`` fallback answers for any
# object with the scikit-learn API (``predict``, and ``predict_proba`` for a classifier).
# ``declared_output_kind()`` reads what the model declares its output to be (its
# ``output_kind`` attribute, the version's tag or param, or a signature of values);
# call it only for models that cannot tell by themselves (torch modules).
#
# A flavor that records the name of code to import at load time (the torch ``state_dict``
# factory) also defines ``recorded_code(saved) -> tuple[str, ...]``, listing those names, so
# that a bundle's import can report them; its ``load`` must import none of them unless
# ``LoadOptions.run_recorded_code`` is set.


#: where a model's predicted labels come from (:attr:`ModelOutputs.labels_from`)
LABEL_SOURCES = ("classes", "indexes", "probabilities")


class ModelOutputs(Protocol):
    """How one loaded model predicts, in its framework's terms: returned by a flavor's
    ``outputs`` hook, and wrapped by the predictor, which adds what every framework shares
    (decoding class indexes to the signature's labels, warnings about assumed label order,
    output columns).  Arrays are numpy arrays.
    """

    #: ``"classifier"``, ``"regressor"``, or ``"unknown"`` (a model that cannot say, such as
    #: a torch module that does not declare its output)
    task: str
    #: the model's own class labels in probability-column order (``classes_``), or ``None``
    classes: Any
    #: how many classes a classifier without ``classes`` has, when its framework knows (a
    #: booster's objective); ``None`` when unknown until its first output
    n_classes: int | None
    #: the objective the model was trained with, for messages; ``None`` if it has none
    objective: str | None
    #: the output kind the model declared (``"logits"``, ``"probabilities"``, ``"values"``),
    #: for models that must declare one; else ``None``
    output_kind: str | None
    #: where predicted labels come from: ``"classes"`` (``predict`` returns the model's own
    #: class values), ``"indexes"`` (``predict`` returns class indexes, and there are no
    #: probabilities), or ``"probabilities"`` (the most probable class: p >= 0.5 of the
    #: second class for two, else the argmax)
    labels_from: str

    def probabilities(self, X: Any) -> Any:
        """Class probabilities of the preprocessed features ``X``, shape ``(n, k)``."""
        ...

    def predict(self, X: Any) -> Any:
        """The model's own prediction: class values or indexes for a classifier (see
        :attr:`labels_from`), values ``(n,)`` or ``(n, m)`` for a regressor."""
        ...


def type_paths(obj: Any) -> tuple[str, ...]:
    """``module.qualname`` of every class in ``type(obj).__mro__``, most specific first."""
    return tuple(f"{cls.__module__}.{cls.__qualname__}" for cls in type(obj).__mro__)


def class_path(obj: Any) -> str:
    """``module.qualname`` of ``type(obj)``."""
    return type_paths(obj)[0]
