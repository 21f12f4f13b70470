"""Quickstart: an NBA-style home-win predictor, from training data to batch predictions.

    python examples/quickstart.py                      # registry in a new temporary folder
    python examples/quickstart.py /data/registry       # or in a folder of your choice
    python examples/quickstart.py REGISTRY --predictions out.csv

The batch predictions go to ``--predictions``; without it, to ``predictions.csv`` beside
the registry folder (in the temporary folder, or in ``/data/`` for ``/data/registry``).

What it does, in the order a real project would:

1. generate two seasons of games with features computed only from *earlier* games
   (rest days, back-to-backs, last-10 form and point differential, team codes);
2. fit a ``ColumnTransformer`` (``StandardScaler`` + ``OneHotEncoder``) and an XGBoost
   classifier on the first season's games, and measure it on the last part of the season;
3. save model + fitted preprocessor + input example + metrics as a new registry version;
4. promote it to Staging, check it from the registry, then promote it to Production;
5. load ``models:/nba_win_predictor/Production`` in a ``ModelPredictor`` and predict
   upcoming games, one call for a few games and a batch call that writes a CSV with the
   ``game_id`` of every game next to its home-win probability.

Needs ``pip install "fsregistry[sklearn,xgboost-cpu]"`` (as the README's first command;
``[sklearn,xgboost]`` works too, with XGBoost's larger GPU-enabled build).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict, deque
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from fsregistry import CustomModelRegistry, ModelPredictor

MODEL_NAME = "nba_win_predictor"
TEAMS = [
    "ATL",
    "BOS",
    "BKN",
    "CHA",
    "CHI",
    "CLE",
    "DAL",
    "DEN",
    "DET",
    "GSW",
    "HOU",
    "IND",
    "LAC",
    "LAL",
    "MEM",
    "MIA",
    "MIL",
    "MIN",
    "NOP",
    "NYK",
    "OKC",
    "ORL",
    "PHI",
    "PHX",
    "POR",
    "SAC",
    "SAS",
    "TOR",
    "UTA",
    "WAS",
]
CATEGORICAL = ["home_team", "away_team"]
NUMERIC = [
    "home_rest_days",
    "away_rest_days",
    "home_back_to_back",
    "away_back_to_back",
    "home_win_pct_last10",
    "away_win_pct_last10",
    "home_point_diff_last10",
    "away_point_diff_last10",
]
FEATURES = CATEGORICAL + NUMERIC
#: the staging check a version must pass before it is promoted to Production
MIN_HOLDOUT_ACCURACY = 0.55


# -- data --------------------------------------------------------------------------------------


class League:
    """Simulates games between teams of fixed strength and tracks each team's recent form."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.strength = dict(zip(TEAMS, self.rng.normal(0.0, 4.0, len(TEAMS)), strict=True))
        self.last_played: dict[str, pd.Timestamp] = {}
        self.results: dict[str, deque[tuple[int, float]]] = defaultdict(lambda: deque(maxlen=10))

    def form(self, team: str, day: pd.Timestamp) -> dict[str, float]:
        """What is known about ``team`` before it plays on ``day`` (nothing from the future)."""
        rest = (day - self.last_played[team]).days - 1 if team in self.last_played else 3
        recent = self.results[team]
        return {
            "rest_days": float(min(rest, 5)),
            "back_to_back": float(rest == 0),
            "win_pct_last10": float(np.mean([w for w, _ in recent])) if recent else 0.5,
            "point_diff_last10": float(np.mean([d for _, d in recent])) if recent else 0.0,
        }

    def play(
        self, home: str, away: str, day: pd.Timestamp, home_form: dict[str, float], away_form: dict[str, float]
    ) -> float:
        """The home team's winning margin: strength, home court, rest and noise."""
        margin = (
            2.5
            + self.strength[home]
            - self.strength[away]
            + 1.2 * (home_form["rest_days"] - away_form["rest_days"])
            - 2.0 * home_form["back_to_back"]
            + 2.0 * away_form["back_to_back"]
            + self.rng.normal(0.0, 11.0)
        )
        for team, diff in ((home, margin), (away, -margin)):
            self.results[team].append((int(diff > 0), diff))
            self.last_played[team] = day
        return float(margin)


def generate_games(league: League, n_games: int, start: str, first_id: int) -> pd.DataFrame:
    """``n_games`` games, about eight a day, with features and the home-win outcome."""
    rows = []
    day = pd.Timestamp(start)
    for i in range(n_games):
        if i and i % 8 == 0:
            day += pd.Timedelta(days=1)
        home, away = league.rng.choice(TEAMS, size=2, replace=False)
        home_form, away_form = league.form(home, day), league.form(away, day)
        margin = league.play(home, away, day, home_form, away_form)
        row = {
            "game_id": f"00223{first_id + i:05d}",
            "game_date": day.date().isoformat(),
            "home_team": home,
            "away_team": away,
            "home_win": int(margin > 0),
        }
        row.update({f"home_{k}": v for k, v in home_form.items()})
        row.update({f"away_{k}": v for k, v in away_form.items()})
        rows.append(row)
    return pd.DataFrame(rows)


# -- training ------------------------------------------------------------------------------------


def train(games: pd.DataFrame) -> tuple[XGBClassifier, dict[str, object], dict[str, float], dict[str, object]]:
    """Fit preprocessor and model on the first 80% of the season; score the last 20%."""
    cut = int(len(games) * 0.8)
    train_set, holdout = games.iloc[:cut], games.iloc[cut:]
    preprocessor = ColumnTransformer(
        [
            ("numeric", StandardScaler(), NUMERIC),
            ("teams", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
    X_train = preprocessor.fit_transform(train_set[FEATURES])
    params = {
        "n_estimators": 300,
        "max_depth": 3,
        "learning_rate": 0.05,
        "subsample": 0.9,
        "colsample_bytree": 0.8,
        "eval_metric": "logloss",
        "n_jobs": 2,
        "random_state": 0,
    }
    model = XGBClassifier(**params).fit(X_train, train_set["home_win"])
    proba = model.predict_proba(preprocessor.transform(holdout[FEATURES]))[:, 1]
    metrics = {
        "accuracy": float(accuracy_score(holdout["home_win"], proba > 0.5)),
        "auc": float(roc_auc_score(holdout["home_win"], proba)),
        "log_loss": float(log_loss(holdout["home_win"], proba)),
    }
    artifact = {  # the seed's preprocessing artifact: the fitted transformer and its feature names
        "preprocessor": preprocessor,
        "model_name": "XGBoost",
        "feature_names_in": FEATURES,
        "feature_names_out": [str(n) for n in preprocessor.get_feature_names_out()],
    }
    return model, artifact, metrics, params


# -- the registry workflow ---------------------------------------------------------------------


def register(registry: CustomModelRegistry, season: pd.DataFrame) -> str:
    """Train, save and promote; returns the new version's URI."""
    model, artifact, metrics, params = train(season)
    uri = registry.save_model(
        model,
        MODEL_NAME,
        preprocessor_artifact=artifact,
        input_example=season[FEATURES].head(5),
        metadata={"fold": 0, "season": "2023-24", "model_params": params, **metrics},
        tags={"framework": "XGBoost", "model_family": "tree", "season": "2024"},
        description="Home-win probability from rest, recent form and team identity.",
    )
    print(f"saved {uri}: accuracy {metrics['accuracy']:.3f}, AUC {metrics['auc']:.3f}")
    return uri


def promote(registry: CustomModelRegistry, uri: str, holdout: pd.DataFrame) -> None:
    """Staging first; Production only if the registry's copy passes the holdout check."""
    registry.transition_model_stage(uri, "Staging")
    staging = ModelPredictor(registry).load_model(f"models:/{MODEL_NAME}/Staging")
    accuracy = float(np.mean((staging.predict(holdout[FEATURES]) > 0.5) == holdout["home_win"]))
    print(f"Staging check on {len(holdout)} holdout games: accuracy {accuracy:.3f}")
    if accuracy < MIN_HOLDOUT_ACCURACY:
        registry.transition_model_stage(uri, "Archived")
        raise SystemExit(f"{uri} did not reach {MIN_HOLDOUT_ACCURACY:.0%}; archived, Production unchanged")
    registry.transition_model_stage(uri, "Production")
    print(f"{uri} promoted to Production")


def predict_upcoming(registry: CustomModelRegistry, upcoming: pd.DataFrame, output: Path) -> pd.DataFrame:
    """Predict with whatever version holds Production, as a serving job would."""
    predictor = ModelPredictor(registry)
    predictor.load_model(f"models:/{MODEL_NAME}/Production")
    tonight = upcoming.head(5)
    for (_, game), p in zip(tonight.iterrows(), predictor.predict(tonight, return_probabilities=True), strict=True):
        print(f"  {game['game_id']}  {game['away_team']} @ {game['home_team']}: home win {p:.1%}")
    predictor.predict_batch(
        upcoming, batch_size=500, return_probabilities=True, output_path=output, id_columns=["game_id"]
    )
    written = pd.read_csv(output)
    print(f"wrote {len(written)} predictions to {output} (columns: {', '.join(written.columns)})")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", help="registry root (default: a new temporary folder)")
    parser.add_argument("--predictions", help="where to write the batch predictions CSV")
    args = parser.parse_args(argv)
    workdir = Path(args.root).parent if args.root else Path(tempfile.mkdtemp(prefix="fsregistry-quickstart-"))
    root = Path(args.root) if args.root else workdir / "registry"
    output = Path(args.predictions) if args.predictions else workdir / "predictions.csv"

    registry = CustomModelRegistry(root)
    league = League(seed=2024)
    season = generate_games(league, n_games=2400, start="2023-10-24", first_id=1)
    upcoming = generate_games(league, n_games=600, start="2024-04-20", first_id=3001).drop(columns="home_win")

    uri = register(registry, season)
    promote(registry, uri, season.iloc[int(len(season) * 0.8) :])
    predict_upcoming(registry, upcoming, output)
    # the command of this interpreter's environment, so that it works as printed from anywhere
    print(f"\nregistry: {root}\ntry: {sys.executable} -m fsregistry --root {root} versions {MODEL_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
