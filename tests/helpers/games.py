"""Small NBA-style game data and a seed-style model (ColumnTransformer + LogisticRegression)
for the bundle and CLI tests; importable from subprocesses too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fsregistry import CustomModelRegistry


def games(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Features (home team, rest days, form) and a home-win target."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "home_team": rng.choice(["BOS", "LAL", "DEN", "MIA"], size=n),
            "rest_days": rng.integers(0, 4, size=n),
            "form": rng.normal(size=n),
        }
    )
    y = pd.Series((X["form"] + 0.3 * X["rest_days"] + rng.normal(scale=0.5, size=n) > 0.4).astype(int))
    return X, y


def save_version(registry: CustomModelRegistry, name: str = "nba", seed: int = 0, **options: Any) -> str:
    """Save a fitted ColumnTransformer + LogisticRegression, as the seed's trainers do."""
    X, y = games(seed=seed)
    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["rest_days", "form"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["home_team"]),
        ]
    ).fit(X)
    model = LogisticRegression(C=1.0 + seed).fit(pre.transform(X), y)
    return registry.save_model(
        model,
        name,
        preprocessor_artifact={"preprocessor": pre, "model_name": "logreg"},
        input_example=X.head(3),
        metadata={"fold": seed, "accuracy": 0.8 + seed / 100},
        tags={"framework": "sklearn"},
        **options,
    )
