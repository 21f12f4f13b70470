"""Fallback flavor: any picklable Python object, stored with cloudpickle.

Used for objects no framework flavor claims (custom estimators, plain functions...).
Loading it unpickles, so it is refused when the registry refuses pickle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..storage import pickling
from . import _common
from .base import LoadOptions, ModelOutputs, SavedModel, StreamSave, class_path
from .predicting import estimator_outputs

FORMAT = "cloudpickle"


class PythonFlavor:
    """cloudpickle for whatever no other flavor claims."""

    name = "python"
    extra = ""
    packages: tuple[str, ...] = ("cloudpickle",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        return True

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        """cloudpickle the object (protocol 5)."""
        save_to = self.stream_saver(model, **kwargs)
        with open(path, "wb") as fh:
            return save_to(fh)

    def stream_saver(self, model: Any, **kwargs: Any) -> StreamSave:
        """Pickle writes to a stream: the registry hashes the bytes as they are written."""
        _common.reject_unknown(kwargs, self.name)

        def save_to(stream: Any) -> SavedModel:
            pickling.write(model, stream)
            return SavedModel(FORMAT, uses_pickle=True, model_class=class_path(model))

        return save_to

    def loads_with_pickle(self, saved: SavedModel) -> bool:
        """Always: whatever ``meta.json`` claims, this flavor's load unpickles."""
        return True

    def outputs(self, model: Any, declared_output_kind: Callable[[], str | None]) -> ModelOutputs | None:
        """Whatever the object is, it predicts through the scikit-learn API if it has one."""
        return estimator_outputs(model)

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        """Unpickle (the registry applied its pickle policy before calling this); a class
        from a package that is not installed is a :class:`MissingDependencyError`."""
        try:
            return pickling.load(path)
        except ModuleNotFoundError as exc:
            raise _common.missing_module_error(exc, f"loading this {self.name} model") from exc


FLAVOR = PythonFlavor()
