"""Synthetic NBA-style games and the seed's training pipeline, shared by the predictor tests.

The pipeline is the seed's: a fitted scikit-learn ``ColumnTransformer`` (StandardScaler on
numeric columns, OneHotEncoder on the team) saved as the preprocessor artifact dict
(``preprocessor``, ``model_name``, ``feature_names_in``, ``feature_names_out``), and a
model trained on its output.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

TEAMS = ("ATL", "BOS", "BKN", "CHI", "DAL", "DEN", "GSW", "LAL", "MIA", "NYK")
NUMERIC = ["home_elo", "away_elo", "rest_days", "home_win_pct", "is_playoff"]
CATEGORICAL = ["home_team"]
FEATURES = [*NUMERIC, *CATEGORICAL]


def games(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` games: a ``game_id``, the six features and the ``home_win`` target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "game_id": np.arange(1, n + 1, dtype=np.int64) + 1_000_000 * seed,
            "home_elo": rng.normal(1500, 100, n),
            "away_elo": rng.normal(1500, 100, n),
            "rest_days": rng.integers(0, 5, n),
            "home_win_pct": rng.uniform(0, 1, n),
            "is_playoff": rng.random(n) < 0.2,
            "home_team": pd.array(rng.choice(TEAMS, n), dtype="str"),
        }
    )
    logit = (frame.home_elo - frame.away_elo) / 100 + 2 * (frame.home_win_pct - 0.5) + 0.3
    frame["home_win"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return frame


def column_transformer() -> Any:
    """The unfitted seed preprocessor."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer(
        [("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
        sparse_threshold=0.0,
    )


def fit_artifact(train: pd.DataFrame, model_name: str = "XGBoost") -> tuple[dict[str, Any], np.ndarray]:
    """The fitted artifact dict and the transformed training matrix."""
    preprocessor = column_transformer()
    transformed = preprocessor.fit_transform(train[FEATURES])
    artifact = {
        "preprocessor": preprocessor,
        "model_name": model_name,
        "feature_names_in": list(FEATURES),
        "feature_names_out": [str(n) for n in preprocessor.get_feature_names_out()],
    }
    return artifact, transformed


def xgb_classifier(transformed: np.ndarray, y: Any, **params: Any) -> Any:
    """A small, deterministic XGBoost classifier."""
    from xgboost import XGBClassifier

    options = {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.3, "n_jobs": 1, "random_state": 0}
    return XGBClassifier(**{**options, **params}).fit(transformed, y)


def logistic(transformed: np.ndarray, y: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500).fit(transformed, y)


def linear(transformed: np.ndarray, y: Any) -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression().fit(transformed, y)


@cache
def trained() -> tuple[pd.DataFrame, dict[str, Any], Any]:
    """Training games, the fitted artifact and an XGBoost model (trained once per process)."""
    train = games(1500)
    artifact, transformed = fit_artifact(train)
    return train, artifact, xgb_classifier(transformed, train["home_win"])
