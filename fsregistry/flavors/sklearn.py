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

from .. import pickling
from . import _common
from .base import LoadOptions, SavedModel, class_path

FORMAT = "cloudpickle"


class SklearnFlavor:
    """cloudpickle for every ``sklearn.base.BaseEstimator``."""

    name = "sklearn"
    extra = "sklearn"
    packages: tuple[str, ...] = ("scikit-learn",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        """Any subclass of ``sklearn.base.BaseEstimator`` (pipelines, transformers, models)."""
        return any(p.startswith("sklearn.") and p.rsplit(".", 1)[-1] == "BaseEstimator" for p in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        """cloudpickle the estimator."""
        _common.reject_unknown(kwargs, self.name)
        pickling.dump(model, path)
        return SavedModel(FORMAT, uses_pickle=True, model_class=class_path(model))

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        """Unpickle (the registry applied its pickle policy before calling this)."""
        _common.require("sklearn", "loading this scikit-learn model")
        try:
            return pickling.load(path)
        except ModuleNotFoundError as exc:  # e.g. a pipeline step from a missing framework
            raise _common.missing_module_error(exc, "loading this scikit-learn model") from exc


FLAVOR = SklearnFlavor()
