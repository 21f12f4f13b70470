"""ModelPredictor on real XGBoost and LightGBM models saved in a CustomModelRegistry:
class labels in the model's own encoding, raw Boosters, and categorical columns read
from CSV and Parquet files."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.preprocessing import LabelEncoder

from fsregistry import ClassOrderWarning, CustomModelRegistry
from fsregistry.errors import PredictorError
from fsregistry.predict.predictor import ModelPredictor
from fsregistry.records.signature import infer_signature

TEAMS = ["BOS", "NYK", "LAL", "07", "MIA"]


def frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "game_id": np.arange(n, dtype=np.int64),
            "team": pd.Categorical(rng.choice(TEAMS, n), categories=TEAMS),
            "rest_days": rng.integers(0, 5, n),
            "elo": rng.normal(1500, 100, n),
        }
    )


FEATURES = ["team", "rest_days", "elo"]
NUMERIC = ["rest_days", "elo"]


def churn(X: pd.DataFrame) -> np.ndarray:
    """Labels that depend on the features: ``"churn"`` for low elo."""
    return np.where(X["elo"].to_numpy() < 1480, "churn", "stay")


def predictor(tmp_path: Path, model: Any, **kwargs: Any) -> ModelPredictor:
    registry = CustomModelRegistry(tmp_path / "reg")
    uri = registry.save_model(model, "m", **kwargs)
    return ModelPredictor(registry).load_model(uri)


def quietly(tmp_path: Path, model: Any, **kwargs: Any) -> ModelPredictor:
    """Load and assert that no warning was raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return predictor(tmp_path, model, **kwargs)


def xgb_classifier(**params: Any) -> xgb.XGBClassifier:
    return xgb.XGBClassifier(n_estimators=15, max_depth=3, n_jobs=1, random_state=0, **params)


# -- class labels in the model's encoding ---------------------------------------------------


class TestClassLabels:
    def test_the_sorted_order_assumption_is_warned_about_and_named(self, tmp_path: Path) -> None:
        X = frame()[NUMERIC]
        y = churn(X)
        model = xgb_classifier().fit(X, np.where(y == "churn", 1, 0))  # churn is 1, not sorted order
        with pytest.warns(ClassOrderWarning, match=r"0 -> 'churn', 1 -> 'stay'.*pd\.Categorical") as record:
            p = predictor(tmp_path, model, signature=infer_signature(X, y))
        assert len(record) == 1
        assert p.get_model_info()["classes"] == ["churn", "stay"]  # what the warning says is assumed

    def test_a_categorical_target_states_the_encoding(self, tmp_path: Path) -> None:
        X = frame()[NUMERIC]
        y = churn(X)
        model = xgb_classifier().fit(X, np.where(y == "churn", 1, 0))
        encoding = pd.Categorical(y, categories=["stay", "churn"])  # codes: stay 0, churn 1
        p = quietly(tmp_path, model, signature=infer_signature(X, encoding))
        np.testing.assert_array_equal(p.predict(X, return_probabilities=False), y)
        assert p.get_model_info()["classes"] == ["stay", "churn"]
        np.testing.assert_array_equal(p.predict(X), model.predict_proba(X)[:, 1])  # P(churn)

    def test_multiclass_labels_and_batch_columns_follow_the_categories(self, tmp_path: Path) -> None:
        X = frame()[NUMERIC]
        level = np.select([X["elo"] < 1450, X["elo"] < 1550], ["low", "mid"], "high")
        encoding = pd.Categorical(level, categories=["mid", "high", "low"])
        model = xgb_classifier().fit(X, encoding.codes)
        p = quietly(tmp_path, model, signature=infer_signature(X, encoding))
        labels = p.predict(X, return_probabilities=False)
        np.testing.assert_array_equal(labels, np.asarray(encoding.categories)[model.predict(X)])
        assert (labels == level).mean() > 0.95
        out = pd.read_csv(p.predict_batch(X, output_path=tmp_path / "p.csv"))
        assert list(out.columns) == ["probability_mid", "probability_high", "probability_low"]
        np.testing.assert_allclose(out.to_numpy(), model.predict_proba(X), rtol=1e-6)

    def test_a_model_whose_classes_are_the_labels_uses_its_own_order(self, tmp_path: Path) -> None:
        X = frame()[NUMERIC]
        y = churn(X)
        model = lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(X, y)
        reversed_order = pd.Categorical(y, categories=["stay", "churn"])
        p = quietly(tmp_path, model, signature=infer_signature(X, reversed_order))
        np.testing.assert_array_equal(p.predict(X, return_probabilities=False), model.predict(X))
        assert p.get_model_info()["classes"] == ["churn", "stay"]  # model.classes_, its column order
        np.testing.assert_array_equal(p.predict(X), model.predict_proba(X)[:, 1])

    def test_text_labels_of_integer_classes_follow_labelencoder_order_with_a_warning(self, tmp_path: Path) -> None:
        X = frame(600)[NUMERIC]
        y = (X["elo"].rank(method="first").to_numpy() * 12 // 601).astype(int).astype(str)  # "0".."11"
        encoder = LabelEncoder().fit(y)  # "10" sorts before "2": code 2 is "10"
        model = xgb_classifier().fit(X, encoder.transform(y))
        with pytest.warns(ClassOrderWarning, match=r"2 -> '10'.*class indexes written as text") as record:
            p = predictor(tmp_path, model, signature=infer_signature(X, y))
        assert len(record) == 1
        np.testing.assert_array_equal(
            p.predict(X, return_probabilities=False), encoder.inverse_transform(model.predict(X))
        )
        assert p.get_model_info()["classes"] == list(encoder.classes_)

    def test_text_labels_of_up_to_ten_integer_classes_need_no_warning(self, tmp_path: Path) -> None:
        X = frame(600)[NUMERIC]
        y = (X["elo"].rank(method="first").to_numpy() * 10 // 601).astype(int)  # 0..9: same order as text
        model = xgb_classifier().fit(X, y)
        p = quietly(tmp_path, model, signature=infer_signature(X, y.astype(str)))
        np.testing.assert_array_equal(p.predict(X, return_probabilities=False), model.predict(X).astype(str))

    @pytest.mark.parametrize("labels", [["1", "0"], [1, 0]], ids=["text", "integers"])
    def test_a_categorical_of_index_like_labels_states_the_encoding(self, tmp_path: Path, labels: list[Any]) -> None:
        X = frame()[NUMERIC]
        y = np.where(X["elo"].to_numpy() < 1480, labels[0], labels[1])  # labels[0] is code 0
        encoding = pd.Categorical(y, categories=labels)
        model = xgb_classifier().fit(X, encoding.codes)
        p = quietly(tmp_path, model, signature=infer_signature(X, encoding))
        np.testing.assert_array_equal(
            p.predict(X, return_probabilities=False), np.asarray(labels, dtype=object)[model.predict(X)].astype(y.dtype)
        )
        assert p.get_model_info()["classes"] == labels
        assert (p.predict(X, return_probabilities=False) == y).mean() > 0.95

    def test_boolean_labels_of_0_1_classes_need_no_warning(self, tmp_path: Path) -> None:
        X = frame()[NUMERIC]
        y = churn(X) == "churn"
        p = quietly(tmp_path, xgb_classifier().fit(X, y.astype(int)), signature=infer_signature(X, y))
        labels = p.predict(X, return_probabilities=False)
        assert labels.dtype == bool and (labels == y).mean() > 0.95

    def test_signatures_written_before_class_order_still_decode(self, tmp_path: Path) -> None:
        X = frame()[NUMERIC]
        y = churn(X)
        model = xgb_classifier().fit(X, np.where(y == "churn", 0, 1))  # sorted order: churn 0
        old = infer_signature(X, y).to_dict()
        del old["output"]["class_order"]
        with pytest.warns(UserWarning, match="sorted label order"):
            p = predictor(tmp_path, model, signature=old)
        np.testing.assert_array_equal(p.predict(X, return_probabilities=False), y)


# -- raw boosters ---------------------------------------------------------------------------


def xgb_booster(X: pd.DataFrame, y: Any, **params: Any) -> xgb.Booster:
    return xgb.train({"max_depth": 3, "nthread": 1, **params}, xgb.DMatrix(X, label=y), num_boost_round=10)


def lgb_booster(X: pd.DataFrame, y: Any, **params: Any) -> lgb.Booster:
    return lgb.train({"verbose": -1, "num_threads": 1, **params}, lgb.Dataset(X, y), num_boost_round=10)


class TestBoosters:
    X = frame()[NUMERIC]
    binary = (X["elo"] > 1500).astype(int).to_numpy()
    three = np.digitize(X["elo"], [1450, 1550])

    def test_xgboost_binary_booster_gives_probabilities_and_labels(self, tmp_path: Path) -> None:
        booster = xgb_booster(self.X, self.binary, objective="binary:logistic")
        p = predictor(tmp_path, booster, input_example=self.X.head(2))
        expected = booster.predict(xgb.DMatrix(self.X))
        np.testing.assert_array_equal(p.predict(self.X), expected)
        np.testing.assert_array_equal(p.predict(self.X, return_probabilities=False), (expected >= 0.5).astype(int))
        assert p.get_model_info()["task"] == "classifier" and p.get_model_info()["classes"] == [0, 1]

    def test_xgboost_booster_on_an_array_gets_its_feature_names(self, tmp_path: Path) -> None:
        booster = xgb_booster(self.X, self.binary, objective="binary:logitraw")
        p = predictor(tmp_path, booster)  # no signature: the array reaches the booster as it is
        margin = booster.predict(xgb.DMatrix(self.X), output_margin=True).astype(np.float64)
        np.testing.assert_allclose(p.predict(self.X.to_numpy()), 1 / (1 + np.exp(-margin)), rtol=1e-6)

    def test_xgboost_booster_gets_columns_in_its_own_order(self, tmp_path: Path) -> None:
        """A signature (here from an input example) in another column order than the
        booster's feature names: the booster still gets its own order."""
        booster = xgb_booster(self.X, self.binary, objective="binary:logistic")
        shuffled = self.X[self.X.columns[::-1]]
        p = predictor(tmp_path, booster, input_example=shuffled.head(2))
        expected = booster.predict(xgb.DMatrix(self.X))
        np.testing.assert_array_equal(p.predict(shuffled), expected)
        np.testing.assert_array_equal(p.predict(self.X), expected)

    @pytest.mark.parametrize("objective", ["multi:softprob", "multi:softmax"])
    def test_xgboost_multiclass_booster(self, tmp_path: Path, objective: str) -> None:
        booster = xgb_booster(self.X, self.three, objective=objective, num_class=3)
        labels = np.array(["low", "mid", "high"])[self.three]
        encoding = pd.Categorical(labels, categories=["low", "mid", "high"])
        p = quietly(tmp_path, booster, signature=infer_signature(self.X, encoding))
        proba = p.predict(self.X)
        assert proba.shape == (len(self.X), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
        if objective == "multi:softprob":
            np.testing.assert_allclose(proba, booster.predict(xgb.DMatrix(self.X)), rtol=1e-6)
        expected = np.array(["low", "mid", "high"])[booster.predict(xgb.DMatrix(self.X), output_margin=True).argmax(1)]
        np.testing.assert_array_equal(p.predict(self.X, return_probabilities=False), expected)

    def test_xgboost_regression_booster(self, tmp_path: Path) -> None:
        booster = xgb_booster(self.X, self.X["elo"], objective="reg:squarederror")
        p = predictor(tmp_path, booster, input_example=self.X.head(2))
        np.testing.assert_array_equal(p.predict(self.X), booster.predict(xgb.DMatrix(self.X)))
        assert p.get_model_info()["task"] == "regressor"

    def test_lightgbm_binary_booster_is_a_classifier(self, tmp_path: Path) -> None:
        booster = lgb_booster(self.X, self.binary, objective="binary")
        p = predictor(tmp_path, booster, input_example=self.X.head(2))
        expected = booster.predict(self.X)
        np.testing.assert_array_equal(p.predict(self.X), expected)
        np.testing.assert_array_equal(p.predict(self.X, return_probabilities=True), expected)
        np.testing.assert_array_equal(p.predict(self.X, return_probabilities=False), (expected >= 0.5).astype(int))
        assert p.get_model_info()["task"] == "classifier"

    def test_lightgbm_multiclass_booster_with_an_alias_objective(self, tmp_path: Path) -> None:
        booster = lgb_booster(self.X, self.three, application="softmax", num_class=3)
        p = predictor(tmp_path, booster, input_example=self.X.head(2))
        np.testing.assert_allclose(p.predict(self.X), booster.predict(self.X))
        np.testing.assert_array_equal(
            p.predict(self.X, return_probabilities=False), booster.predict(self.X).argmax(axis=1)
        )

    @pytest.mark.parametrize("objective", ["cross_entropy", "xentropy", "cross_entropy_lambda", "xentlambda"])
    def test_lightgbm_cross_entropy_boosters_are_binary_classifiers(self, tmp_path: Path, objective: str) -> None:
        booster = lgb_booster(self.X, self.binary, objective=objective)
        labels = np.where(self.binary == 1, "yes", "no")
        with pytest.warns(ClassOrderWarning, match="0 -> 'no', 1 -> 'yes'"):
            p = predictor(tmp_path, booster, signature=infer_signature(self.X, labels))
        assert p.get_model_info()["task"] == "classifier" and p.get_model_info()["classes"] == ["no", "yes"]
        expected = 1 / (1 + np.exp(-booster.predict(self.X, raw_score=True)))  # both give sigmoid(score)
        if "lambda" not in objective:
            np.testing.assert_allclose(booster.predict(self.X), expected, rtol=1e-9)
        np.testing.assert_allclose(p.predict(self.X), expected, rtol=1e-9)
        np.testing.assert_array_equal(
            p.predict(self.X, return_probabilities=False), np.where(expected >= 0.5, "yes", "no")
        )

    def test_xgboost_hinge_booster_gives_labels_only(self, tmp_path: Path) -> None:
        booster = xgb_booster(self.X, self.binary, objective="binary:hinge")
        labels = np.where(self.binary == 1, "yes", "no")
        with pytest.warns(ClassOrderWarning, match="0 -> 'no', 1 -> 'yes'"):
            p = predictor(tmp_path, booster, signature=infer_signature(self.X, labels))
        assert p.get_model_info()["task"] == "classifier"
        expected = np.where(booster.predict(xgb.DMatrix(self.X)) == 1, "yes", "no")
        np.testing.assert_array_equal(p.predict(self.X, return_probabilities=False), expected)
        for flag in (None, True):
            with pytest.raises(PredictorError, match=r"binary:hinge.*labels only.*return_probabilities=False"):
                p.predict(self.X, return_probabilities=flag)

    def test_a_regression_booster_with_a_classes_signature_is_warned_about(self, tmp_path: Path) -> None:
        booster = xgb_booster(self.X, self.binary, objective="reg:logistic")
        labels = np.where(self.binary == 1, "yes", "no")
        with pytest.warns(ClassOrderWarning, match="'reg:logistic' does not classify.*not decoded"):
            p = predictor(tmp_path, booster, signature=infer_signature(self.X, labels))
        assert p.get_model_info()["task"] == "regressor"

    def test_a_binary_booster_gives_class_1_from_p_of_one_half(self, tmp_path: Path) -> None:
        booster = lgb_booster(self.X, self.binary, objective="binary")
        p = predictor(tmp_path, booster, input_example=self.X.head(2))
        adapter: Any = p._require().adapter
        adapter.outputs.raw = lambda Xt, margin=False: np.array([0.5, 0.49, 0.51])
        np.testing.assert_array_equal(p.predict(self.X.head(3), return_probabilities=False), [1, 0, 1])

    def test_lightgbm_regression_booster(self, tmp_path: Path) -> None:
        booster = lgb_booster(self.X, self.X["elo"], objective="regression")
        p = predictor(tmp_path, booster, input_example=self.X.head(2))
        np.testing.assert_array_equal(p.predict(self.X), booster.predict(self.X))
        assert p.get_model_info()["task"] == "regressor"


# -- categorical columns ------------------------------------------------------------------


def categorical_models() -> list[Any]:
    train = frame(600)
    y = (train["team"].isin(["LAL", "07"]) ^ (train["elo"] > 1550)).astype(int)
    return [
        lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(train[FEATURES], y),
        xgb_classifier(enable_categorical=True, tree_method="hist").fit(train[FEATURES], y),
    ]


@pytest.fixture(scope="module", params=["lightgbm", "xgboost"])
def categorical_model(request: pytest.FixtureRequest) -> Any:
    return categorical_models()[0 if request.param == "lightgbm" else 1]


class TestCategoricalColumns:
    def test_csv_and_parquet_predict_like_the_training_frame(self, categorical_model: Any, tmp_path: Path) -> None:
        train = frame(600)
        p = predictor(tmp_path, categorical_model, input_example=train[FEATURES].head(3))
        new = frame(300, seed=1)
        expected = categorical_model.predict_proba(new[FEATURES])[:, 1]
        new.to_csv(tmp_path / "new.csv", index=False)
        new.to_parquet(tmp_path / "new.parquet")
        as_text = new.assign(team=new["team"].astype(str))
        report = p.validate_input(as_text)
        assert report["valid"] and {"column": "team", "from": "str", "to": "category"} in report["coercions"]
        np.testing.assert_allclose(p.predict(as_text), expected, rtol=1e-6)
        np.testing.assert_allclose(p.predict_batch(tmp_path / "new.csv", batch_size=64), expected, rtol=1e-6)
        np.testing.assert_allclose(p.predict_batch(tmp_path / "new.parquet", batch_size=7), expected, rtol=1e-6)

    def test_categories_in_another_order_are_recoded(self, categorical_model: Any, tmp_path: Path) -> None:
        train = frame(600)
        p = predictor(tmp_path, categorical_model, input_example=train[FEATURES].head(3))
        new = frame(100, seed=2)
        shuffled = new.assign(team=pd.Categorical(new["team"].astype(str), categories=TEAMS[::-1]))
        np.testing.assert_allclose(p.predict(shuffled), categorical_model.predict_proba(new[FEATURES])[:, 1])

    def test_unseen_categories_are_missing_and_logged_once(
        self, categorical_model: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        train = frame(600)
        p = predictor(tmp_path, categorical_model, input_example=train[FEATURES].head(3))
        new = frame(50, seed=3)
        text = new.assign(team=new["team"].astype(str).where(new.index % 5 != 0, "SEA"))
        missing = new.assign(team=new["team"].where(new.index % 5 != 0))
        assert p.validate_input(text)["unseen_categories"] == {"team": ["SEA"]}
        with caplog.at_level(logging.WARNING, logger="fsregistry.predictor"):
            got = p.predict(text)
            p.predict(text)
        np.testing.assert_allclose(got, categorical_model.predict_proba(missing[FEATURES])[:, 1], rtol=1e-6)
        told = [r for r in caplog.records if "not among the training categories" in r.getMessage()]
        assert len(told) == 1 and "SEA" in told[0].getMessage()

    def test_signatures_without_categories_pass_category_columns_through(self, tmp_path: Path) -> None:
        train = frame(600)
        model = categorical_models()[0]
        old = infer_signature(train[FEATURES]).to_dict()
        for column in old["inputs"]:
            column.pop("categories", None)
        p = predictor(tmp_path, model, signature=json.loads(json.dumps(old)))
        new = frame(100, seed=4)
        expected = model.predict_proba(new[FEATURES])[:, 1]
        np.testing.assert_allclose(p.predict(new), expected, rtol=1e-6)
        np.testing.assert_allclose(p.predict_batch(new, batch_size=7), expected, rtol=1e-6)
        report = p.validate_input(new.assign(team=new["team"].astype(str)))
        assert report["valid"] and report["coercions"] == []  # text is passed on as text, as before


# -- a signature in another column order than training ---------------------------------------


def _positional_data() -> tuple[pd.DataFrame, np.ndarray]:
    """Columns of very different scales, so that reading one for another changes predictions."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.standard_normal(600), "b": rng.standard_normal(600) * 5, "c": rng.standard_normal(600)})
    return X, (X["a"] * 3 + X["b"] > 0.5).astype(int).to_numpy()


def _order_models() -> dict[str, Any]:
    import catboost as cb
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _positional_data()
    scaled = make_pipeline(
        ColumnTransformer([("scale", StandardScaler(), ["a", "b", "c"])]),
        lgb.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1),
    ).fit(X, y)
    return {
        "xgboost booster": xgb.train({"objective": "binary:logistic", "nthread": 1}, xgb.DMatrix(X, y), 20),
        "xgboost classifier": xgb.XGBClassifier(n_estimators=20, n_jobs=1).fit(X, y),
        "lightgbm booster": lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1}, lgb.Dataset(X, y), 20),
        "lightgbm classifier": lgb.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1).fit(X, y),
        "catboost": cb.CatBoostClassifier(iterations=20, verbose=0, thread_count=1, allow_writing_files=False).fit(
            X, y
        ),
        "random forest": RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y),
        "pipeline": scaled,
    }


def _own_probabilities(model: Any, X: pd.DataFrame) -> np.ndarray:
    if isinstance(model, xgb.Booster):
        return model.predict(xgb.DMatrix(X))
    if isinstance(model, lgb.Booster):
        return model.predict(X)
    return model.predict_proba(X)[:, 1]


@pytest.mark.parametrize("kind", list(_order_models()))
def test_a_signature_in_another_column_order_predicts_like_the_model(tmp_path: Path, kind: str) -> None:
    """The signature comes from an input example whose columns were shuffled: the model
    still gets its columns in its training order (LightGBM reads them by position, and
    used to predict from the wrong columns without a word)."""
    model = _order_models()[kind]
    X, y = _positional_data()
    shuffled = X[["c", "a", "b"]]
    p = predictor(tmp_path, model, signature=infer_signature(shuffled, y))
    expected = _own_probabilities(model, X)
    np.testing.assert_allclose(p.predict(X), expected, rtol=1e-6)
    np.testing.assert_allclose(p.predict(shuffled), expected, rtol=1e-6)
    path = tmp_path / "rows.csv"
    shuffled.to_csv(path, index=False)
    np.testing.assert_allclose(p.predict_batch(path, batch_size=256), expected, rtol=1e-6)


# -- categories the model records itself win over the signature's -----------------------------


def test_lightgbm_categories_missing_from_the_input_example_are_not_made_missing(tmp_path: Path) -> None:
    """The input example held only some teams; LightGBM records every team it was fitted on
    (``pandas_categorical``), and a team known to the model reaches it as that team."""
    X = frame()
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1, random_state=0).fit(X[FEATURES], churn(X))
    example = X[FEATURES][X["team"] != "NYK"].head(20)
    example = example.assign(team=example["team"].cat.remove_unused_categories())
    assert "NYK" not in set(example["team"].cat.categories)
    loaded = predictor(tmp_path, model, input_example=example)
    fresh = X[FEATURES].assign(team=X["team"].astype(str))  # text, as read from a CSV
    assert loaded.validate_input(fresh)["unseen_categories"] == {}
    expected = model.predict_proba(X[FEATURES])[:, 1]
    np.testing.assert_array_equal(loaded.predict(fresh, return_probabilities=True), expected)


def test_catboost_takes_an_unseen_category_as_it_does_itself(tmp_path: Path) -> None:
    """CatBoost refuses a missing categorical value but predicts an unseen one: the
    predictor passes the value on, never turning it into a missing one."""
    import catboost as cb

    X = frame()
    model = cb.CatBoostClassifier(
        iterations=20, verbose=0, cat_features=["team"], allow_writing_files=False, thread_count=1
    ).fit(X[FEATURES], churn(X))
    loaded = predictor(tmp_path, model, input_example=X[FEATURES].head(20))
    fresh = X[FEATURES].head(5).assign(team=["BOS", "ZZZ", "LAL", "07", "MIA"])
    assert loaded.validate_input(fresh)["valid"]
    np.testing.assert_array_equal(loaded.predict(fresh, return_probabilities=True), model.predict_proba(fresh)[:, 1])
