"""ModelPredictor on the in-memory registry: loading, predicting, validating, describing."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from memory_registry import MemoryRegistry
from predictor_data import FEATURES, NUMERIC, games, linear, logistic, trained

from fsregistry import ClassOrderWarning, CustomModelRegistry
from fsregistry.base import BaseModelRegistry
from fsregistry.errors import InvalidArgumentError, ModelNotFoundError, PredictorError, RegistryError, SchemaError
from fsregistry.predict.loaded import build_loaded, coerce_signature, unpack_artifact
from fsregistry.predict.outputs import class_map
from fsregistry.predict.predictor import ModelPredictor
from fsregistry.records.signature import Signature, infer_signature

TESTS = Path(__file__).resolve().parent / "helpers"  # where the shared test modules live


@pytest.fixture
def registry() -> MemoryRegistry:
    train, artifact, model = trained()
    reg = MemoryRegistry()
    reg.save_model(
        model,
        "nba",
        preprocessor_artifact=artifact,
        input_example=train[FEATURES].head(3),
        metadata={"fold": 0, "accuracy": 0.85},
        tags={"framework": "XGBoost"},
    )
    reg.transition_model_stage("nba/1", "Production")
    reg.set_alias("nba", "champion", 1)
    return reg


@pytest.fixture
def predictor(registry: MemoryRegistry) -> ModelPredictor:
    return ModelPredictor(registry).load_model("models:/nba/Production")


@pytest.fixture
def new_games() -> pd.DataFrame:
    return games(300, seed=7)


def raw_proba(frame: pd.DataFrame) -> np.ndarray:
    _, artifact, model = trained()
    return model.predict_proba(artifact["preprocessor"].transform(frame[FEATURES]))[:, 1]


def save(reg: BaseModelRegistry, model: Any, **kwargs: Any) -> ModelPredictor:
    uri = reg.save_model(model, "m", **kwargs)
    return ModelPredictor(reg).load_model(uri)


# -- construction and loading -----------------------------------------------------------


class TestConstruction:
    def test_registry_alone(self, registry: MemoryRegistry) -> None:
        assert ModelPredictor(registry).registry is registry

    def test_seed_form_with_config_logger_and_handler(self, registry: MemoryRegistry) -> None:
        logger = logging.getLogger("seed")
        predictor = ModelPredictor({"any": "config"}, logger, None, registry)
        assert predictor.registry is registry and predictor.logger is logger and predictor.config == {"any": "config"}

    def test_registry_keyword(self, registry: MemoryRegistry) -> None:
        assert ModelPredictor(registry=registry).registry is registry
        assert ModelPredictor(None, None, None, registry=registry).registry is registry

    @pytest.mark.parametrize("bad", [None, "registry", object()])
    def test_something_that_is_not_a_registry_is_refused(self, bad: Any) -> None:
        with pytest.raises(PredictorError, match="BaseModelRegistry"):
            ModelPredictor(bad)

    @pytest.mark.parametrize("config", [None, {"registry_root": "/data/registry"}, "/data/registry"])
    def test_a_missing_registry_is_named_with_the_way_to_pass_one(self, config: Any) -> None:
        with pytest.raises(PredictorError, match="needs a registry") as info:
            ModelPredictor(config, logging.getLogger("seed"), None)
        message = str(info.value)
        assert "NoneType" not in message and "CustomModelRegistry(root)" in message
        assert "ModelPredictor(config, app_logger, error_handler, registry)" in message


@pytest.mark.parametrize(
    "identifier",
    [
        "models:/nba/1",
        "models:/nba/Production",
        "models:/nba/production",
        "models:/nba/latest",
        "models:/nba@champion",
        "nba/1",
        "nba/Production",
    ],
)
def test_every_identifier_form_loads_the_same_model(
    registry: MemoryRegistry, identifier: str, new_games: pd.DataFrame
) -> None:
    predictor = ModelPredictor(registry).load_model(identifier)
    np.testing.assert_array_equal(predictor.predict(new_games), raw_proba(new_games))


def test_run_identifier(registry: MemoryRegistry, new_games: pd.DataFrame) -> None:
    run_id = registry.get_model_version("nba/1")["run_id"]
    predictor = ModelPredictor(registry).load_model(f"runs:/{run_id}/model")
    np.testing.assert_array_equal(predictor.predict(new_games), raw_proba(new_games))


def test_failed_load_keeps_the_previous_model(predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
    with pytest.raises(ModelNotFoundError):
        predictor.load_model("models:/nope/1")
    assert predictor.get_model_info()["name"] == "nba"
    np.testing.assert_array_equal(predictor.predict(new_games), raw_proba(new_games))


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.predict(games(3)),
        lambda p: p.predict_batch(games(3)),
        lambda p: p.validate_input(games(3)),
        lambda p: p.get_model_info(),
        lambda p: p.model,
    ],
)
def test_nothing_loaded_is_a_clear_error(registry: MemoryRegistry, call: Any) -> None:
    with pytest.raises(PredictorError, match="no model loaded"):
        call(ModelPredictor(registry))


class TestArtifacts:
    def test_bare_transformer_artifact_enforces_its_fitted_names(self, new_games: pd.DataFrame) -> None:
        _, artifact, model = trained()
        predictor = save(MemoryRegistry(), model, preprocessor_artifact=artifact["preprocessor"])
        assert predictor.get_model_info()["feature_names"]["in"] == FEATURES
        np.testing.assert_array_equal(predictor.predict(new_games), raw_proba(new_games))
        with pytest.raises(SchemaError, match="home_team"):
            predictor.predict(new_games.drop(columns=["home_team"]))

    def test_artifact_names_are_enforced_without_a_signature(self, new_games: pd.DataFrame) -> None:
        _, artifact, model = trained()
        predictor = save(MemoryRegistry(), model, preprocessor_artifact=artifact)
        assert predictor.get_model_info()["schema"]["source"] == "feature_names"
        with pytest.raises(SchemaError, match="'home_elo'"):
            predictor.predict(new_games.drop(columns=["home_elo"]))

    def test_a_preprocessor_without_transform_is_refused_at_load(self) -> None:
        with pytest.raises(PredictorError, match="no transform"):
            unpack_artifact({"preprocessor": object()})
        with pytest.raises(PredictorError, match="no transform"):
            unpack_artifact(42)

    def test_artifact_without_preprocessor_key_means_no_preprocessor(self) -> None:
        assert unpack_artifact({"feature_names_in": ["a"]}) == (None, ["a"], None)

    def test_signature_dict_and_bad_signature(self) -> None:
        sig = infer_signature(pd.DataFrame({"a": [1.0]}))
        assert coerce_signature(sig.to_dict()) == sig
        with pytest.raises(PredictorError, match="malformed"):
            coerce_signature({"inputs": [{"bogus": 1}]})
        with pytest.raises(PredictorError):
            coerce_signature(["not", "a", "signature"])

    def test_record_with_dict_signature_is_enforced(self) -> None:
        model = linear(np.ones((4, 1)) * [[1], [2], [3], [4]], [1.0, 2.0, 3.0, 4.0])
        sig = infer_signature(np.ones((2, 1))).to_dict()
        loaded = build_loaded({"model": model, "signature": sig})
        assert loaded.schema is not None and loaded.schema.names == ["0"]

    def test_registry_returning_no_model_is_a_predictor_error(self) -> None:
        with pytest.raises(PredictorError, match="no model"):
            build_loaded({"model": None})


# -- predicting -------------------------------------------------------------------------


class TestInputForms:
    def test_dataframe_equals_the_raw_pipeline(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        np.testing.assert_array_equal(predictor.predict(new_games), raw_proba(new_games))

    def test_dict_of_columns(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        columns = {c: new_games[c].tolist() for c in FEATURES}
        np.testing.assert_allclose(predictor.predict(columns), raw_proba(new_games))

    def test_list_of_row_dicts(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        rows = new_games[FEATURES].to_dict(orient="records")
        np.testing.assert_allclose(predictor.predict(rows), raw_proba(new_games))

    def test_single_row_dict(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        row = new_games[FEATURES].iloc[0].to_dict()
        np.testing.assert_allclose(predictor.predict(row), raw_proba(new_games)[:1])

    def test_numpy_array_gets_the_training_column_names(
        self, predictor: ModelPredictor, new_games: pd.DataFrame
    ) -> None:
        arr = new_games[FEATURES].to_numpy(dtype=object)
        np.testing.assert_allclose(predictor.predict(arr), raw_proba(new_games))

    def test_numpy_array_of_the_wrong_width(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        with pytest.raises(SchemaError, match="expects 6"):
            predictor.predict(new_games[NUMERIC].to_numpy())

    @pytest.mark.parametrize("bad", [np.ones(6), np.ones((2, 3, 6)), np.ones((0, 6)), pd.DataFrame(), []])
    def test_wrong_shapes_and_empty_input(self, predictor: ModelPredictor, bad: Any) -> None:
        with pytest.raises(PredictorError):
            predictor.predict(bad)

    def test_nested_list_rows_of_mixed_types(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        rows = new_games[FEATURES].head(5).to_numpy(dtype=object).tolist()  # [1512.3, 1490.1, 2, 0.6, False, "BOS"]
        np.testing.assert_allclose(predictor.predict(rows), raw_proba(new_games.head(5)))
        np.testing.assert_allclose(predictor.predict([tuple(r) for r in rows]), raw_proba(new_games.head(5)))
        np.testing.assert_allclose(predictor.predict_batch(rows, batch_size=2), raw_proba(new_games.head(5)))

    @pytest.mark.parametrize("bad", [None, "games.csv", 5])
    def test_a_wrong_input_type_says_what_is_accepted(self, predictor: ModelPredictor, bad: Any) -> None:
        with pytest.raises(PredictorError, match=f"input of type {type(bad).__name__}; pass a DataFrame, a 2-D"):
            predictor.predict(bad)

    def test_column_order_and_extras_do_not_matter(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        shuffled = new_games[list(reversed(new_games.columns))].assign(noise=1.0)
        np.testing.assert_array_equal(predictor.predict(shuffled), raw_proba(new_games))

    def test_extra_columns_are_logged_once(
        self, predictor: ModelPredictor, new_games: pd.DataFrame, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="fsregistry.predictor"):
            predictor.predict(new_games)
            predictor.predict(new_games)
        dropped = [r for r in caplog.records if "dropping columns" in r.getMessage()]
        assert len(dropped) == 1 and "game_id" in dropped[0].getMessage()

    def test_int_column_given_as_float_is_refused(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        with pytest.raises(SchemaError, match=r"'rest_days'.*int64.*float64"):
            predictor.predict(new_games.assign(rest_days=new_games["rest_days"] + 0.5))

    def test_int_given_for_float_is_widened(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        rounded = new_games.assign(home_elo=new_games["home_elo"].round().astype(np.int64))
        np.testing.assert_array_equal(
            predictor.predict(rounded), raw_proba(rounded.assign(home_elo=rounded["home_elo"].astype(float)))
        )


class TestOutputs:
    def test_binary_returns_positive_class_probabilities(
        self, predictor: ModelPredictor, new_games: pd.DataFrame
    ) -> None:
        proba = predictor.predict(new_games, return_probabilities=True)
        assert proba.shape == (len(new_games),) and ((proba >= 0) & (proba <= 1)).all()

    def test_labels_are_the_original_class_labels(self, new_games: pd.DataFrame) -> None:
        train, artifact, _ = trained()
        y = np.where(train["home_win"] == 1, "home", "away")
        model = logistic(artifact["preprocessor"].transform(train[FEATURES]), y)
        predictor = save(MemoryRegistry(), model, preprocessor_artifact=artifact)
        labels = predictor.predict(new_games, return_probabilities=False)
        assert set(labels) <= {"home", "away"}

    def test_encoded_labels_are_decoded_with_the_signature_classes(self, new_games: pd.DataFrame) -> None:
        train, artifact, model = trained()
        y = np.where(train["home_win"] == 1, "home", "away")
        sig = infer_signature(train[FEATURES], y)
        with pytest.warns(ClassOrderWarning, match="0 -> 'away', 1 -> 'home'"):
            predictor = save(MemoryRegistry(), model, preprocessor_artifact=artifact, signature=sig)
        labels = predictor.predict(new_games, return_probabilities=False)
        encoded = model.predict(artifact["preprocessor"].transform(new_games[FEATURES]))
        np.testing.assert_array_equal(labels, np.where(encoded == 1, "home", "away"))
        assert predictor.get_model_info()["classes"] == ["away", "home"]

    def test_a_categorical_signature_decodes_by_its_categories(self, new_games: pd.DataFrame) -> None:
        train, artifact, model = trained()
        y = pd.Categorical(np.where(train["home_win"] == 1, "home", "away"), categories=["home", "away"])
        transformed = artifact["preprocessor"].transform(train[FEATURES])
        flipped = type(model)(**model.get_params()).fit(transformed, y.codes)  # home is class 0
        predictor = save(MemoryRegistry(), flipped, preprocessor_artifact=artifact, signature=infer_signature(train, y))
        labels = predictor.predict(new_games, return_probabilities=False)
        encoded = flipped.predict(artifact["preprocessor"].transform(new_games[FEATURES]))
        np.testing.assert_array_equal(labels, np.where(encoded == 0, "home", "away"))
        assert predictor.get_model_info()["classes"] == ["home", "away"]

    def test_multiclass_returns_one_column_per_class(self, new_games: pd.DataFrame) -> None:
        train, artifact, _ = trained()
        y = train["rest_days"].map({0: "rested", 1: "rested", 2: "normal", 3: "tired", 4: "tired"})
        model = logistic(artifact["preprocessor"].transform(train[FEATURES]), y)
        predictor = save(MemoryRegistry(), model, preprocessor_artifact=artifact)
        proba = predictor.predict(new_games)
        assert proba.shape == (len(new_games), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert set(predictor.predict(new_games, return_probabilities=False)) <= {"rested", "normal", "tired"}

    def test_regressor_returns_values_and_refuses_probabilities(self, new_games: pd.DataFrame) -> None:
        train, artifact, _ = trained()
        transformed = artifact["preprocessor"].transform(train[FEATURES])
        model = linear(transformed, train["home_elo"] - train["away_elo"])
        predictor = save(MemoryRegistry(), model, preprocessor_artifact=artifact)
        expected = model.predict(artifact["preprocessor"].transform(new_games[FEATURES]))
        np.testing.assert_allclose(predictor.predict(new_games), expected)
        np.testing.assert_allclose(predictor.predict(new_games, return_probabilities=False), expected)
        with pytest.raises(PredictorError, match="regressor"):
            predictor.predict(new_games, return_probabilities=True)
        assert predictor.get_model_info()["task"] == "regressor"

    def test_model_trained_on_a_dataframe_enforces_its_own_names(self) -> None:
        from sklearn.linear_model import LinearRegression

        frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
        predictor = save(MemoryRegistry(), LinearRegression().fit(frame, [1.0, 2.0, 3.0]))
        assert predictor.predict(frame[["b", "a"]]).shape == (3,)
        with pytest.raises(SchemaError, match="'b'"):
            predictor.predict(frame[["a"]])

    def test_no_schema_at_all_passes_arrays_through(self) -> None:
        X = np.arange(20.0).reshape(10, 2)
        model = linear(X, X.sum(axis=1))
        predictor = save(MemoryRegistry(), model)
        assert predictor.get_model_info()["schema"] is None
        np.testing.assert_allclose(predictor.predict(X), X.sum(axis=1))

    def test_ndarray_signature_feeds_an_array(self) -> None:
        X = np.arange(20.0).reshape(10, 2)
        predictor = save(MemoryRegistry(), linear(X, X.sum(axis=1)), input_example=X[:2])
        np.testing.assert_allclose(predictor.predict(X.astype(np.int64)), X.sum(axis=1))
        np.testing.assert_allclose(predictor.predict(pd.DataFrame(X, columns=["0", "1"])), X.sum(axis=1))


class TestReturnProbabilities:
    @pytest.mark.parametrize("flag", [False, np.False_, np.bool_(False)])
    def test_false_and_numpy_false_give_labels(
        self, predictor: ModelPredictor, new_games: pd.DataFrame, flag: Any
    ) -> None:
        labels = predictor.predict(new_games, return_probabilities=flag)
        assert set(np.unique(labels)) <= {0, 1} and labels.dtype.kind == "i"
        np.testing.assert_array_equal(predictor.predict_batch(new_games, return_probabilities=flag), labels)

    @pytest.mark.parametrize("flag", [None, True, np.True_])
    def test_none_and_true_give_probabilities(
        self, predictor: ModelPredictor, new_games: pd.DataFrame, flag: Any
    ) -> None:
        np.testing.assert_array_equal(predictor.predict(new_games, return_probabilities=flag), raw_proba(new_games))

    @pytest.mark.parametrize("flag", [0, 1, 0.0, "yes", "no", "False", [], np.array([False])])
    def test_anything_else_is_refused(
        self, registry: MemoryRegistry, new_games: pd.DataFrame, tmp_path: Path, flag: Any
    ) -> None:
        recorder = Recorder()
        predictor = ModelPredictor(None, None, recorder, registry).load_model("nba/1")
        with pytest.raises(InvalidArgumentError, match="return_probabilities must be None, True or False"):
            predictor.predict(new_games, return_probabilities=flag)
        with pytest.raises(InvalidArgumentError, match="return_probabilities"):
            predictor.predict_batch(new_games, return_probabilities=flag, output_path=tmp_path / "p.csv")
        assert not (tmp_path / "p.csv").exists()
        assert [context for _, context in recorder.seen] == ["ModelPredictor.predict", "ModelPredictor.predict_batch"]


class TestFrameworkFailures:
    def test_preprocessor_failure_is_a_chained_predictor_error(self, new_games: pd.DataFrame) -> None:
        from sklearn.preprocessing import OneHotEncoder

        train, _, _ = trained()
        encoder = OneHotEncoder(handle_unknown="error").fit(train[["home_team"]])
        model = linear(encoder.transform(train[["home_team"]]).toarray(), train["home_elo"])
        predictor = save(MemoryRegistry(), model, preprocessor_artifact={"preprocessor": encoder})
        with pytest.raises(PredictorError, match="preprocessor's transform failed") as info:
            predictor.predict(pd.DataFrame({"home_team": ["XXX"]}))
        assert isinstance(info.value.__cause__, ValueError)

    def test_model_failure_is_a_chained_predictor_error(self) -> None:
        predictor = save(MemoryRegistry(), Exploding())
        with pytest.raises(PredictorError, match="model's predict failed: ZeroDivisionError") as info:
            predictor.predict(np.ones((2, 2)))
        assert isinstance(info.value.__cause__, ZeroDivisionError)

    def test_object_without_predict_is_refused_at_load(self) -> None:
        with pytest.raises(PredictorError, match="no predict"):
            save(MemoryRegistry(), {"not": "a model"})


class Exploding:
    """A model whose predict always fails inside 'the framework'."""

    def predict(self, X: Any) -> Any:
        return 1 / 0


# -- error handler ----------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[BaseException, str]] = []

    def handle_error(self, exc: BaseException, context: str) -> None:
        self.seen.append((exc, context))


def test_error_handler_hears_about_predictor_errors(registry: MemoryRegistry) -> None:
    handler = Recorder()
    predictor = ModelPredictor(None, None, handler, registry)
    with pytest.raises(PredictorError):
        predictor.predict(games(2))
    predictor.load_model("nba/1")
    with pytest.raises(SchemaError):
        predictor.predict(games(2).drop(columns=["home_team"]))
    assert [type(e) for e, _ in handler.seen] == [PredictorError, SchemaError]
    assert handler.seen[1][1] == "ModelPredictor.predict"


def test_a_broken_error_handler_never_hides_the_error(registry: MemoryRegistry) -> None:
    def broken(exc: BaseException, context: str) -> None:
        raise RuntimeError("handler bug")

    predictor = ModelPredictor(None, None, broken, registry)
    with pytest.raises(PredictorError, match="no model loaded"):
        predictor.predict(games(2))


# -- validate_input ---------------------------------------------------------------------


class TestValidateInput:
    def test_valid_input(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        report = predictor.validate_input(new_games)
        assert report["valid"] and report["n_rows"] == len(new_games)
        assert report["extra_features"] == ["game_id", "home_win"] and report["errors"] == []
        assert report["schema_source"] == "signature"

    def test_invalid_input_lists_everything(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        bad = new_games.drop(columns=["home_elo", "away_elo"]).assign(home_team=1, is_playoff=1)
        report = predictor.validate_input(bad)
        assert not report["valid"]
        assert report["missing_features"] == ["home_elo", "away_elo"]
        assert {e["column"] for e in report["dtype_errors"]} == {"home_team", "is_playoff"}
        assert len(report["errors"]) == 3

    def test_coercions_are_reported(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        report = predictor.validate_input(new_games.assign(home_elo=new_games["home_elo"].astype(np.float32)))
        assert report["valid"] and report["coercions"] == [{"column": "home_elo", "from": "float32", "to": "float64"}]

    @pytest.mark.parametrize("bad", [np.ones(3), np.ones((2, 2)), pd.DataFrame(), [], "text", 5, None])
    def test_bad_data_never_raises(self, predictor: ModelPredictor, bad: Any) -> None:
        report = predictor.validate_input(bad)
        assert report["valid"] is False and report["errors"]

    def test_valid_means_predict_accepts_it(self, predictor: ModelPredictor, new_games: pd.DataFrame) -> None:
        sample = new_games.assign(rest_days=new_games["rest_days"].astype(np.int32))
        assert predictor.validate_input(sample)["valid"]
        assert len(predictor.predict(sample)) == len(sample)

    @pytest.mark.parametrize("value", [np.inf, -np.inf])
    def test_an_infinite_value_is_named_alike_by_predict_and_validate_input(
        self, predictor: ModelPredictor, new_games: pd.DataFrame, value: float
    ) -> None:
        bad = new_games.copy()
        bad.loc[[4, 9], "home_elo"] = value
        report = predictor.validate_input(bad)
        assert not report["valid"] and report["infinite_values"] == {"home_elo": 2}
        assert report["errors"] == [
            "column 'home_elo': 2 infinite value(s) (inf or -inf; the first in row 4); "
            "replace them with NaN (a missing value) or a finite number"
        ]
        with pytest.raises(SchemaError) as caught:
            predictor.predict(bad)
        assert report["errors"][0] in str(caught.value)
        with pytest.raises(SchemaError, match="column 'home_elo'"):
            predictor.predict_batch(bad, batch_size=3)
        assert predictor.validate_input(bad.assign(home_elo=np.nan))["valid"]  # missing values pass on

    def test_an_infinite_value_without_a_schema_names_its_column_by_position(self) -> None:
        X = np.arange(12.0).reshape(6, 2)
        p = save(MemoryRegistry(), linear(X, X.sum(axis=1)))
        assert p.get_model_info()["schema"] is None
        bad = X.copy()
        bad[3, 1] = np.inf
        report = p.validate_input(bad)
        assert not report["valid"] and report["infinite_values"] == {"1": 1}
        with pytest.raises(SchemaError, match=r"column '1': 1 infinite value\(s\) .*row 3"):
            p.predict(bad)
        assert p.validate_input(X)["valid"] and len(p.predict(X)) == 6


# -- get_model_info ---------------------------------------------------------------------


def test_model_info(predictor: ModelPredictor) -> None:
    info = predictor.get_model_info()
    assert info["model_type"] == "XGBClassifier" and info["flavor"] == "xgboost"
    assert info["has_preprocessor"] and info["preprocessor_type"] == "ColumnTransformer"
    assert (info["name"], info["version"], info["stage"], info["aliases"]) == ("nba", 1, "Production", ["champion"])
    assert info["uri"] == "models:/nba/1" and len(info["run_id"]) == 32
    assert info["feature_names"]["in"] == FEATURES
    assert "cat__home_team_BOS" in info["feature_names"]["out"]
    assert [c["name"] for c in info["signature"]["inputs"]] == FEATURES
    assert info["metrics"] == {"accuracy": 0.85} and info["params"] == {"fold": 0}
    assert info["tags"] == {"framework": "XGBoost"} and info["task"] == "classifier"
    assert "environment" in info


def test_feature_names_out_come_from_the_preprocessor_when_the_artifact_lacks_them() -> None:
    _, artifact, model = trained()
    predictor = save(MemoryRegistry(), model, preprocessor_artifact=artifact["preprocessor"])
    assert predictor.get_model_info()["feature_names"]["out"] == artifact["feature_names_out"]


# -- torch ------------------------------------------------------------------------------


class Linear(torch.nn.Module):
    """x @ w + b with fixed weights, plus dropout (so eval mode is observable)."""

    def __init__(self, n_in: int, n_out: int, output_kind: str | None = None) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(n_in, n_out)
        self.dropout = torch.nn.Dropout(0.5)
        if output_kind is not None:
            self.output_kind = output_kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.dtype == torch.float32 and not torch.is_grad_enabled()
        return self.dropout(self.linear(x))


class Softmaxed(Linear):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.linear(x), dim=1)


def expected_linear(module: Linear, X: np.ndarray) -> np.ndarray:
    weight = module.linear.weight.detach().numpy().astype(np.float64)
    bias = module.linear.bias.detach().numpy().astype(np.float64)
    return X.astype(np.float32).astype(np.float64) @ weight.T + bias


class TestTorch:
    X = np.random.default_rng(3).normal(size=(50, 4))

    def test_binary_logits_become_sigmoid_probabilities(self) -> None:
        module = Linear(4, 1, "logits").train()
        proba = save(MemoryRegistry(), module).predict(self.X)
        np.testing.assert_allclose(proba, 1 / (1 + np.exp(-expected_linear(module, self.X)[:, 0])), rtol=1e-5)

    def test_multiclass_logits_become_softmax_probabilities(self) -> None:
        module = Linear(4, 3, "logits")
        proba = save(MemoryRegistry(), module).predict(self.X)
        logits = expected_linear(module, self.X)
        expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(proba, expected, rtol=1e-5)

    def test_probabilities_are_taken_as_they_are(self) -> None:
        module = Softmaxed(4, 3, "probabilities")
        predictor = save(MemoryRegistry(), module)
        proba = predictor.predict(self.X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(predictor.predict(self.X, return_probabilities=False), proba.argmax(axis=1))

    def test_values_and_the_tag_declaration(self) -> None:
        module = Linear(4, 1)
        predictor = save(MemoryRegistry(), module, tags={"output_kind": "values"})
        np.testing.assert_allclose(predictor.predict(self.X), expected_linear(module, self.X)[:, 0], rtol=1e-5)
        with pytest.raises(PredictorError, match="regressor"):
            predictor.predict(self.X, return_probabilities=True)
        assert predictor.get_model_info()["output_kind"] == "values"

    def test_labels_use_the_signature_classes(self) -> None:
        module = Linear(4, 1, "logits")
        sig = infer_signature(self.X, np.array(["away", "home"] * 25))
        with pytest.warns(UserWarning, match="assuming sorted label order"):
            predictor = save(MemoryRegistry(), module, signature=sig)
        labels = predictor.predict(self.X, return_probabilities=False)
        np.testing.assert_array_equal(labels, np.where(expected_linear(module, self.X)[:, 0] > 0, "home", "away"))

    def test_labels_follow_a_categorical_signature(self) -> None:
        module = Linear(4, 3, "logits")
        y = pd.Categorical(np.array(["tired", "rested", "normal"] * 17)[:50], categories=["tired", "rested", "normal"])
        predictor = save(MemoryRegistry(), module, signature=infer_signature(self.X, y))
        labels = predictor.predict(self.X, return_probabilities=False)
        np.testing.assert_array_equal(labels, np.asarray(y.categories)[expected_linear(module, self.X).argmax(axis=1)])
        assert predictor.get_model_info()["classes"] == ["tired", "rested", "normal"]

    def test_labels_are_not_claimed_for_a_module_with_another_number_of_outputs(self) -> None:
        module = Linear(4, 3, "logits")
        sig = infer_signature(self.X, np.array(["a", "b"] * 25))
        with pytest.warns(ClassOrderWarning, match="checked on the first prediction"):
            predictor = save(MemoryRegistry(), module, signature=sig)
        with pytest.warns(ClassOrderWarning, match=r"3 outputs.*2 labels \['a', 'b'\]; labels are not decoded"):
            labels = predictor.predict(self.X, return_probabilities=False)
        np.testing.assert_array_equal(labels, expected_linear(module, self.X).argmax(axis=1))
        assert predictor.get_model_info()["classes"] == [0, 1, 2]  # what predict gives, not the 2 labels
        out = predictor.predict_batch(self.X, batch_size=20)
        assert out.shape == (50, 3)

    def test_a_binary_logit_of_zero_is_class_1(self) -> None:
        module = Linear(4, 1, "logits")
        with torch.no_grad():
            module.linear.weight.zero_()
            module.linear.bias.zero_()
        predictor = save(MemoryRegistry(), module)
        assert predictor.predict(self.X[:2]).tolist() == [0.5, 0.5]
        assert predictor.predict(self.X[:2], return_probabilities=False).tolist() == [1, 1]  # p >= 0.5

    def test_undeclared_output_is_a_clear_error(self) -> None:
        predictor = save(MemoryRegistry(), Linear(4, 1))
        with pytest.raises(PredictorError, match="output_kind"):
            predictor.predict(self.X)

    def test_unknown_output_kind_is_refused_at_load(self) -> None:
        with pytest.raises(PredictorError, match="not one of"):
            save(MemoryRegistry(), Linear(4, 1, "scores"))

    def test_load_options_reach_the_registry(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        registry = CustomModelRegistry(tmp_path / "reg")
        registry.save_model(Linear(4, 1, "logits"), "net", torch_format="module")
        seen: dict[str, Any] = {}
        original = registry.load_model

        def spy(identifier: str, **options: Any) -> dict[str, Any]:
            seen.update(options)
            return original(identifier, **options)

        monkeypatch.setattr(registry, "load_model", spy)
        predictor = ModelPredictor(registry).load_model("models:/net/1", device="cpu")
        assert seen == {"device": "cpu"}
        assert next(predictor.model.parameters()).device.type == "cpu"
        assert predictor.predict(self.X).shape == (50,)
        with pytest.raises(TypeError, match="no options"):
            ModelPredictor(MemoryRegistry()).load_model("net/1", device="cpu")

    def test_torch_behind_a_column_transformer(self, new_games: pd.DataFrame) -> None:
        train, artifact, _ = trained()
        n_out = len(artifact["feature_names_out"])
        module = Linear(n_out, 1, "logits")
        predictor = save(MemoryRegistry(), module, preprocessor_artifact=artifact, input_example=train[FEATURES][:2])
        transformed = artifact["preprocessor"].transform(new_games[FEATURES])
        expected = 1 / (1 + np.exp(-expected_linear(module, transformed)[:, 0]))
        np.testing.assert_allclose(predictor.predict(new_games), expected, rtol=1e-5)


def test_scikit_learn_predictions_never_import_torch() -> None:
    script = (
        "import sys\n"
        "from memory_registry import MemoryRegistry\n"
        "from predictor_data import games, fit_artifact, xgb_classifier, FEATURES\n"
        "from fsregistry.predict.predictor import ModelPredictor\n"
        "train = games(200); artifact, Xt = fit_artifact(train)\n"
        "reg = MemoryRegistry(); reg.save_model(xgb_classifier(Xt, train.home_win), 'm', "
        "preprocessor_artifact=artifact)\n"
        "p = ModelPredictor(reg).load_model('m/1'); p.predict(games(5)); p.predict_batch(games(5), 2)\n"
        "p.get_model_info(); p.validate_input(games(5))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=TESTS, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_all_predictor_errors_are_registry_errors() -> None:
    assert issubclass(PredictorError, RegistryError) and issubclass(SchemaError, RegistryError)
    assert isinstance(Signature(inputs=()), Signature)


# -- class maps -----------------------------------------------------------------------------


class TestClassMap:
    def test_index_like_categories_decode_class_indexes_by_the_categories(self) -> None:
        output = {"kind": "classes", "classes": [2, 0, 1], "class_order": "categories"}
        assert class_map(None, output, 3).labels == [2, 0, 1]
        assert class_map(np.array([0, 1, 2]), output).labels == [2, 0, 1]  # XGBoost's classes_
        assert class_map(np.array(["x", "y"]), {"classes": ["y", "x"], "class_order": "categories"}).labels == [
            "x",
            "y",
        ]  # classes of its own win

    def test_text_categories_are_never_matched_by_value(self) -> None:
        output = {"kind": "classes", "classes": ["1", "0"], "class_order": "categories"}
        assert class_map(np.array([0, 1]), output).labels == ["1", "0"]

    def test_made_up_indexes_never_pass_for_the_models_own_classes(self) -> None:
        made_up = class_map(None, {"kind": "classes", "classes": [0, 1, 2], "class_order": "sorted"}, 2)
        assert made_up.labels == [0, 1] and made_up.note is not None and "not decoded" in made_up.note

    def test_a_prediction_outside_the_classes_is_an_error_not_an_undecoded_chunk(self) -> None:
        mapping = class_map(np.array([0, 1]), {"classes": ["away", "home"], "class_order": "sorted"})
        np.testing.assert_array_equal(mapping.decode(np.array([1, 0])), ["home", "away"])
        with pytest.raises(PredictorError, match=r"predicted \[7\].*not among its classes"):
            mapping.decode(np.array([1, 7]))


# -- inputs that are not DataFrames -------------------------------------------------------------


def _numeric_predictor(tmp_path: Path) -> tuple[ModelPredictor, pd.DataFrame, Any]:
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame({"a": [0.5, 1.5, 2.5, 3.5], "b": np.array([1, 0, 3, 2], dtype=np.int64)})
    model = LinearRegression().fit(X, X["a"] * 100 + X["b"])
    registry = CustomModelRegistry(tmp_path / "reg")
    uri = registry.save_model(model, "m", input_example=X)
    return ModelPredictor(registry).load_model(uri), X, model


def test_a_pyarrow_table_is_read_by_column_name_never_by_position(tmp_path: Path) -> None:
    import pyarrow as pa

    loaded, X, model = _numeric_predictor(tmp_path)
    swapped = pa.Table.from_pandas(X[["b", "a"]], preserve_index=False)
    np.testing.assert_array_equal(loaded.predict(swapped), model.predict(X))
    assert loaded.validate_input(swapped)["valid"]
    strangers = pa.table({"x": [1.0], "y": [2]})
    with pytest.raises(SchemaError, match="missing required columns"):
        loaded.predict(strangers)
    assert not loaded.validate_input(strangers)["valid"]


def test_one_row_of_a_frame_with_integer_columns_predicts_as_that_row(tmp_path: Path) -> None:
    """``frame.iloc[0]`` is a float Series when the frame has float columns: its integer
    columns hold integers all the same, and are taken as such."""
    loaded, X, model = _numeric_predictor(tmp_path)
    row = X.iloc[1]
    assert row.dtype == np.float64
    np.testing.assert_array_equal(loaded.predict(row), model.predict(X.iloc[[1]]))
    for not_an_int64 in (1.5, 1e20, float("nan")):  # a fraction, or a whole number int64 cannot hold
        with pytest.raises(SchemaError, match=r"float to integer|missing values"):
            loaded.predict(pd.Series({"a": 0.5, "b": not_an_int64}))
