"""CatBoost flavor: the native ``cbm`` format, restored to the same class.

The ``cbm`` file carries the trees, the training parameters, the class labels (with their
type, so string and integer labels come back as they were) and the hashes of categorical
feature values, so ``cat_features`` given as strings or pandas categoricals keep working.
Nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import FlavorError
from . import _common
from .base import LoadOptions, ModelOutputs, SavedModel, class_path
from .predicting import estimator_outputs

FORMAT = "catboost-cbm"


class CatBoostFlavor:
    """``CatBoost``, ``CatBoostClassifier``, ``CatBoostRegressor``, ``CatBoostRanker``."""

    name = "catboost"
    extra = "catboost"
    packages: tuple[str, ...] = ("catboost",)

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        """Any subclass of ``catboost.CatBoost``."""
        return any(p.startswith("catboost.") and p.rsplit(".", 1)[-1] == "CatBoost" for p in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        """``save_model(format="cbm")``; an unfitted model is refused."""
        _common.reject_unknown(kwargs, self.name)
        _common.require("catboost", "saving a CatBoost model")
        if not model.is_fitted():
            raise FlavorError(f"cannot save an unfitted {type(model).__name__}")
        model.save_model(str(path), format="cbm")
        return SavedModel(FORMAT, uses_pickle=False, model_class=class_path(model))

    def recorded_code(self, saved: SavedModel) -> tuple[str, ...]:
        """A class from outside catboost (a user's subclass) is imported to load it."""
        return _common.foreign_class(saved.model_class, "catboost")

    def outputs(self, model: Any, declared_output_kind: Callable[[], str | None]) -> ModelOutputs | None:
        """Every CatBoost model has the scikit-learn API; ``predict_proba`` makes it a classifier."""
        return estimator_outputs(model)

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        """An empty instance of the saved class, then ``load_model(format="cbm")``."""
        catboost = _common.require("catboost", "loading this CatBoost model")
        cls = _common.resolve_class(
            saved.model_class, catboost.CatBoost, self.name, run_recorded_code=options.run_recorded_code
        )
        model = cls()
        model.load_model(str(path), format="cbm")
        return model


FLAVOR = CatBoostFlavor()
