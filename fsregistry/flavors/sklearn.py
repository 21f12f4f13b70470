"""scikit-learn flavor: estimators and pipelines, stored with cloudpickle.

scikit-learn has no native model format, so this is pickle (``uses_pickle=True``) and is
refused by a registry that refuses pickle.  It differs from the ``python`` fallback in
what it records (the scikit-learn version, compared on load) and in the error a missing
framework gives.  A ``Pipeline`` that ends in an XGBoost or LightGBM model is stored
here, whole: the framework flavors only claim the bare framework models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _common
from .base import LoadOptions, SavedModel
from .python import PythonFlavor


class SklearnFlavor(PythonFlavor):
    """cloudpickle for every ``sklearn.base.BaseEstimator``."""

    name = "sklearn"
    extra = "sklearn"
    packages: tuple[str, ...] = ("scikit-learn",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        """Any subclass of ``sklearn.base.BaseEstimator`` (pipelines, transformers, models)."""
        return any(p.startswith("sklearn.") and p.rsplit(".", 1)[-1] == "BaseEstimator" for p in type_paths)

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        _common.require("sklearn", "loading this scikit-learn model")
        return super().load(path, saved, options)


FLAVOR = SklearnFlavor()
