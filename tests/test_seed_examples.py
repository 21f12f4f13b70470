"""The seed document's usage examples 2, 3 and 4, run as written on the real
CustomModelRegistry, a fitted ColumnTransformer (StandardScaler + OneHotEncoder) and a real
XGBoost model.  The example bodies below are the seed's code; only the setup around them
(config, logger, error handler, data, ``evaluate_model``) is ours."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from predictor_data import FEATURES, fit_artifact, games, xgb_classifier

from fsregistry import CustomModelRegistry, ModelNotFoundError, ModelPredictor


class ErrorHandler:
    """The seed's error_handler: told about every error before it is raised."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def handle_error(self, exc: BaseException, context: str) -> None:
        self.errors.append(exc)


@cache
def pipeline(seed: int = 0) -> tuple[dict[str, Any], Any]:
    """A fitted preprocessor artifact and an XGBoost model trained on its output."""
    train = games(3000, seed=seed)
    artifact, transformed = fit_artifact(train)
    return artifact, xgb_classifier(transformed, train["home_win"], n_estimators=30 + seed)


def raw_probabilities(X: pd.DataFrame, seed: int = 0) -> np.ndarray:
    artifact, model = pipeline(seed)
    return model.predict_proba(artifact["preprocessor"].transform(X[FEATURES]))[:, 1]


@pytest.fixture
def config(tmp_path: Path) -> dict[str, Any]:
    return {"registry_root": str(tmp_path / "registry")}


@pytest.fixture
def app_logger() -> logging.Logger:
    return logging.getLogger("nba_app")


@pytest.fixture
def error_handler() -> ErrorHandler:
    return ErrorHandler()


@pytest.fixture
def production_registry(
    config: dict[str, Any], app_logger: logging.Logger, error_handler: ErrorHandler
) -> CustomModelRegistry:
    """Version 1 of nba_win_predictor in Production, saved as the seed's trainer does."""
    artifact, model = pipeline()
    registry = CustomModelRegistry(config, app_logger, error_handler)
    registry.save_model(
        model=model,
        model_name="nba_win_predictor",
        preprocessor_artifact=artifact,
        input_example=games(5)[FEATURES],
        metadata={"fold": 0, "accuracy": 0.85, "auc": 0.9},
        tags={"model_family": "tree", "framework": "XGBoost", "season": "2024"},
    )
    registry.transition_model_stage(model_identifier="nba_win_predictor/1", stage="Production")
    return registry


def test_example_2_inference(
    production_registry: CustomModelRegistry,
    config: dict[str, Any],
    app_logger: logging.Logger,
    error_handler: ErrorHandler,
    capsys: pytest.CaptureFixture[str],
) -> None:
    X_new = games(200, seed=11)

    # -- seed example 2 --
    registry = CustomModelRegistry(config, app_logger, error_handler)
    predictor = ModelPredictor(config, app_logger, error_handler, registry)

    # Load production model
    predictor.load_model("models:/nba_win_predictor/Production")

    # Get model info
    info = predictor.get_model_info()
    print(f"Loaded: {info['model_type']}")
    print(f"Has preprocessor: {info['has_preprocessor']}")

    # Validate input
    validation = predictor.validate_input(X_new)
    if validation["valid"]:
        # Make predictions
        win_probabilities = predictor.predict(X_new, return_probabilities=True)
        print(f"Home team win probability: {win_probabilities[0]:.2%}")
    else:
        print(f"Invalid input: {validation}")
    # -- end of example --

    out = capsys.readouterr().out
    assert "Loaded: XGBClassifier" in out and "Has preprocessor: True" in out
    assert f"Home team win probability: {raw_probabilities(X_new)[0]:.2%}" in out
    np.testing.assert_array_equal(win_probabilities, raw_probabilities(X_new))
    assert info["flavor"] == "xgboost" and info["stage"] == "Production" and info["metrics"]["accuracy"] == 0.85
    assert error_handler.errors == []


def test_example_2_with_invalid_input_takes_the_else_branch(
    production_registry: CustomModelRegistry,
    config: dict[str, Any],
    app_logger: logging.Logger,
    error_handler: ErrorHandler,
    capsys: pytest.CaptureFixture[str],
) -> None:
    X_new = games(5).drop(columns=["home_team"])
    predictor = ModelPredictor(config, app_logger, error_handler, production_registry)
    predictor.load_model("models:/nba_win_predictor/Production")
    validation = predictor.validate_input(X_new)
    if validation["valid"]:
        win_probabilities = predictor.predict(X_new, return_probabilities=True)
        print(f"Home team win probability: {win_probabilities[0]:.2%}")
    else:
        print(f"Invalid input: {validation}")
    assert "Invalid input:" in capsys.readouterr().out and validation["missing_features"] == ["home_team"]


def test_example_3_batch_inference(
    production_registry: CustomModelRegistry,
    config: dict[str, Any],
    app_logger: logging.Logger,
    error_handler: ErrorHandler,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    X_large_dataset = games(25_000, seed=12)
    predictor = ModelPredictor(config, app_logger, error_handler, production_registry)

    # -- seed example 3 --
    # Load model
    predictor.load_model("models:/nba_win_predictor/Production")

    # Process large dataset in batches
    predictions = predictor.predict_batch(X_large_dataset, batch_size=1000, return_probabilities=True)

    # Save predictions
    results_df = pd.DataFrame({"game_id": X_large_dataset["game_id"], "home_win_probability": predictions})
    results_df.to_csv("predictions.csv", index=False)
    # -- end of example --

    written = pd.read_csv(tmp_path / "predictions.csv")
    np.testing.assert_array_equal(written["game_id"], X_large_dataset["game_id"])
    np.testing.assert_allclose(written["home_win_probability"], raw_probabilities(X_large_dataset), rtol=1e-6)

    # the same, written by predict_batch itself, chunk by chunk
    path = predictor.predict_batch(X_large_dataset, batch_size=1000, output_path="streamed.csv", id_columns=["game_id"])
    streamed = pd.read_csv(path)
    np.testing.assert_array_equal(streamed["game_id"], written["game_id"])
    np.testing.assert_array_equal(streamed["probability"], written["home_win_probability"])


def evaluate_model(predictor: ModelPredictor, X_test: pd.DataFrame, y_test: pd.Series) -> float:
    """Accuracy of the predictor's class labels (the seed leaves this function to the reader)."""
    return float((predictor.predict(X_test, return_probabilities=False) == y_test.to_numpy()).mean())


@pytest.mark.parametrize("threshold", [0.0, 1.01], ids=["promoted", "archived"])
def test_example_4_staging_workflow(
    production_registry: CustomModelRegistry,
    config: dict[str, Any],
    app_logger: logging.Logger,
    error_handler: ErrorHandler,
    capsys: pytest.CaptureFixture[str],
    threshold: float,
) -> None:
    registry = production_registry
    for seed in (1, 2):  # versions 2 and 3 exist, as in the seed (the new one becomes 4)
        artifact, model = pipeline(seed)
        registry.save_model(model, "nba_win_predictor", preprocessor_artifact=artifact)
    new_model, preprocessor_artifact = pipeline(3)[1], pipeline(3)[0]
    test = games(2000, seed=13)
    X_test, y_test = test[FEATURES], test["home_win"]

    # -- seed example 4 --
    # Train new model version
    model_uri = registry.save_model(
        model=new_model,
        model_name="nba_win_predictor",
        preprocessor_artifact=preprocessor_artifact,
        tags={"version": "v2.0", "improvement": "new features"},
    )

    # Automatically registered as version 4
    # Transition to staging for testing
    registry.transition_model_stage("nba_win_predictor/4", "Staging")

    # Test in staging environment
    staging_predictor = ModelPredictor(config, app_logger, error_handler, registry)
    staging_predictor.load_model("models:/nba_win_predictor/Staging")

    # Run validation tests
    test_accuracy = evaluate_model(staging_predictor, X_test, y_test)

    if test_accuracy > threshold:
        # Promote to production
        registry.transition_model_stage("nba_win_predictor/4", "Production")
        print("New model deployed to production!")
    else:
        # Archive and keep old production model
        registry.transition_model_stage("nba_win_predictor/4", "Archived")
        print("New model did not meet threshold, keeping current production model")
    # -- end of example --

    assert model_uri == "models:/nba_win_predictor/4"
    assert 0.5 < test_accuracy <= 1.0
    np.testing.assert_array_equal(staging_predictor.predict(X_test), raw_probabilities(X_test, seed=3))
    production = ModelPredictor(config, app_logger, error_handler, registry)
    production.load_model("models:/nba_win_predictor/Production")
    if threshold == 0.0:
        assert "deployed to production" in capsys.readouterr().out
        assert production.get_model_info()["version"] == 4
        assert registry.get_model_version("nba_win_predictor/1")["stage"] == "Archived"
        assert registry.get_model_version("nba_win_predictor/4")["stage"] == "Production"
    else:
        assert "keeping current production model" in capsys.readouterr().out
        assert production.get_model_info()["version"] == 1
        assert registry.get_model_version("nba_win_predictor/4")["stage"] == "Archived"
        with pytest.raises(ModelNotFoundError):
            staging_predictor.load_model("models:/nba_win_predictor/Staging")
    assert production.get_model_info()["tags"].get("version") == ("v2.0" if threshold == 0.0 else None)
