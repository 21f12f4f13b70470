"""Fallback flavor: any picklable Python object, stored with cloudpickle.

Used for objects no framework flavor claims (custom estimators, plain functions...).
Loading it unpickles, so it is refused when the registry refuses pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import pickling
from .base import LoadOptions, SavedModel, class_path


class PythonFlavor:
    """cloudpickle for whatever no other flavor claims."""

    name = "python"
    extra = ""
    packages: tuple[str, ...] = ("cloudpickle",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        return True

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        pickling.dump(model, path)
        return SavedModel(format="cloudpickle", uses_pickle=True, model_class=class_path(model))

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        return pickling.load(path)


FLAVOR = PythonFlavor()
