"""A tour of the flavors: one model per framework, saved, loaded back, and checked.

    python examples/multi_flavor_tour.py [REGISTRY_ROOT]

scikit-learn, XGBoost, LightGBM, CatBoost and PyTorch models are trained on the same small
table, saved into one registry, loaded back, and their predictions compared with the
in-memory model's.  The table printed at the end shows what each flavor stored: its format
on disk, native wherever the framework has one (only scikit-learn needs pickle).
A framework that is not installed is skipped with a note
(``pip install "fsregistry[all]"`` installs them all).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fsregistry import CustomModelRegistry, ModelPredictor

Trainer = Callable[[pd.DataFrame, pd.Series], tuple[Any, Callable[[pd.DataFrame], np.ndarray], dict[str, Any]]]


def make_data(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Four numeric features and a binary target that depends on three of them."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["pace", "off_rating", "def_rating", "rest"])
    y = pd.Series(
        (X["off_rating"] - X["def_rating"] + 0.5 * X["rest"] + rng.normal(scale=0.5, size=n) > 0).astype(int),
        name="home_win",
    )
    return X, y


# -- one trainer per framework: (model, in-memory probability function, save options) --------


def train_sklearn(X: pd.DataFrame, y: pd.Series) -> tuple[Any, Callable[[pd.DataFrame], np.ndarray], dict[str, Any]]:
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=50, max_depth=5, random_state=0).fit(X, y)
    return model, lambda data: model.predict_proba(data)[:, 1], {}


def train_xgboost(X: pd.DataFrame, y: pd.Series) -> tuple[Any, Callable[[pd.DataFrame], np.ndarray], dict[str, Any]]:
    from xgboost import XGBClassifier

    model = XGBClassifier(n_estimators=60, max_depth=3, n_jobs=2, random_state=0).fit(X, y)
    return model, lambda data: model.predict_proba(data)[:, 1], {}


def train_lightgbm(X: pd.DataFrame, y: pd.Series) -> tuple[Any, Callable[[pd.DataFrame], np.ndarray], dict[str, Any]]:
    from lightgbm import LGBMClassifier

    model = LGBMClassifier(n_estimators=60, num_leaves=15, verbose=-1, n_jobs=2, random_state=0).fit(X, y)
    return model, lambda data: np.asarray(model.predict_proba(data))[:, 1], {}


def train_catboost(X: pd.DataFrame, y: pd.Series) -> tuple[Any, Callable[[pd.DataFrame], np.ndarray], dict[str, Any]]:
    from catboost import CatBoostClassifier

    # allow_writing_files=False: CatBoost would otherwise leave a catboost_info/ folder behind
    model = CatBoostClassifier(
        iterations=60, depth=4, verbose=0, random_seed=0, thread_count=2, allow_writing_files=False
    ).fit(X, y)
    return model, lambda data: np.asarray(model.predict_proba(data))[:, 1], {}


def train_pytorch(X: pd.DataFrame, y: pd.Series) -> tuple[Any, Callable[[pd.DataFrame], np.ndarray], dict[str, Any]]:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    features = torch.tensor(X.to_numpy(), dtype=torch.float32)
    target = torch.tensor(y.to_numpy(), dtype=torch.long)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(features), target).backward()
        optimizer.step()
    model.eval()

    def proba(data: pd.DataFrame) -> np.ndarray:
        with torch.no_grad():
            logits = model(torch.tensor(data.to_numpy(), dtype=torch.float32))
        return torch.softmax(logits, dim=1)[:, 1].numpy()

    # TorchScript: code and weights in one file, loaded without this script and without pickle.
    # A torch module cannot say what its output means, so the version tag declares it.
    return model, proba, {"torch_format": "torchscript", "tags": {"output_kind": "logits"}}


FRAMEWORKS: dict[str, tuple[str, Trainer]] = {
    "scikit-learn": ("sklearn", train_sklearn),
    "XGBoost": ("xgboost", train_xgboost),
    "LightGBM": ("lightgbm", train_lightgbm),
    "CatBoost": ("catboost", train_catboost),
    "PyTorch": ("torch", train_pytorch),
}


def tour_one(
    registry: CustomModelRegistry, label: str, trainer: Trainer, X: pd.DataFrame, y: pd.Series, X_new: pd.DataFrame
) -> list[str]:
    """Train, save, load back through the predictor, compare; return a row for the summary."""
    model, proba, options = trainer(X, y)
    tags = {"framework": label, **options.pop("tags", {})}
    uri = registry.save_model(
        model, f"tour_{label.lower().replace('-', '_')}", input_example=X.head(3), tags=tags, **options
    )
    info = registry.get_model_version(uri)
    loaded = ModelPredictor(registry).load_model(uri)
    ours, theirs = proba(X_new), loaded.predict(X_new, return_probabilities=True)
    if not np.allclose(ours, theirs, atol=1e-6):
        raise SystemExit(f"{label}: the loaded model predicts differently from the trained one")
    return [label, uri, info["flavor"], info["model_format"], f"{info['size'] / 1024:.1f} KiB", "identical"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="fsregistry-tour-")) / "registry"
    registry = CustomModelRegistry(root)
    X, y = make_data()
    X_new, _ = make_data(n=50, seed=1)
    rows = []
    for label, (module, trainer) in FRAMEWORKS.items():
        if importlib.util.find_spec(module) is None:
            print(f'skipping {label}: not installed (pip install "fsregistry[{module}]")')
            continue
        rows.append(tour_one(registry, label, trainer, X, y, X_new))
        print(f"{label:<13} saved as {rows[-1][1]} and loaded back: predictions identical")
    headers = ["framework", "uri", "flavor", "format on disk", "size", "predictions"]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print()
    for row in [headers, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\nregistry: {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
