"""Property-based tests: whatever the input, the predictor predicts or raises one of
fsregistry's own errors, never a stray exception from inside pandas, scikit-learn or XGBoost."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from memory_registry import MemoryRegistry
from predictor_data import FEATURES, TEAMS, fit_artifact, games, logistic, xgb_classifier

from fsregistry.errors import RegistryError, SchemaError
from fsregistry.predict.predictor import ModelPredictor

#: modest for CI; raise it locally (e.g. FSREGISTRY_HYPOTHESIS_EXAMPLES=2000) to search harder
EXAMPLES = int(os.environ.get("FSREGISTRY_HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def predictors() -> tuple[ModelPredictor, ...]:
    """An XGBoost and a scikit-learn model behind the seed's ColumnTransformer."""
    train = games(800)
    artifact, transformed = fit_artifact(train)
    out = []
    for model in (xgb_classifier(transformed, train["home_win"]), logistic(transformed, train["home_win"])):
        reg = MemoryRegistry()
        uri = reg.save_model(model, "m", preprocessor_artifact=artifact, input_example=train[FEATURES].head(2))
        out.append(ModelPredictor(reg).load_model(uri))
    return tuple(out)


PREDICTOR = st.integers(0, 1).map(lambda i: predictors()[i])


# -- strategies -------------------------------------------------------------------------


def valid_frames(min_rows: int = 1) -> st.SearchStrategy[pd.DataFrame]:
    return st.builds(lambda n, seed: games(n, seed)[FEATURES], st.integers(min_rows, 30), st.integers(0, 10**6))


def odd_column(n: int) -> st.SearchStrategy[Any]:
    """Values of a dtype the schema may or may not accept."""
    return st.sampled_from(
        [
            np.arange(n, dtype=np.float64) + 0.5,
            np.where(np.arange(n) % 2, np.nan, 1.0),
            np.arange(n, dtype=np.int32),
            np.arange(n) % 2 == 0,
            np.array(["x"] * n),
            pd.Series([1, "a"] * n, dtype=object)[:n].to_numpy(),
            pd.Categorical(np.array(TEAMS)[np.arange(n) % len(TEAMS)]),
            pd.date_range("2024-01-01", periods=n),
            pd.array([None] * n, dtype="Int64"),
            np.full(n, None, dtype=object),
            np.arange(n, dtype=np.float32),
            np.arange(n, dtype=np.uint64),
            np.full(n, 1e300),
            np.full(n, -np.inf),
            [complex(1, 1)] * n,
            pd.Series([2**70] * n, dtype=object).to_numpy(),
        ]
    )


@st.composite
def mutated_frames(draw: st.DrawFn) -> pd.DataFrame:
    """A valid frame, then a few random breakages: drop, add, duplicate, retype, rename, empty."""
    frame = draw(valid_frames())
    for action in draw(
        st.lists(st.sampled_from(["drop", "add", "dup", "retype", "rename", "shuffle", "empty"]), max_size=4)
    ):
        frame = _mutate(draw, frame, action)
    return frame


def _mutate(draw: st.DrawFn, frame: pd.DataFrame, action: str) -> pd.DataFrame:
    columns = list(frame.columns)
    if action == "empty":
        return frame.iloc[:0]
    if action == "shuffle":
        return frame[draw(st.permutations(columns))] if columns else frame
    if action == "add":
        return frame.assign(**{draw(st.text(min_size=1, max_size=5)): draw(odd_column(len(frame)))})
    if not columns:
        return frame
    column = draw(st.sampled_from(columns))
    if action == "drop":
        return frame.drop(columns=[column])
    if action == "dup":
        return pd.concat([frame, frame[[column]]], axis=1)
    if action == "rename":
        return frame.rename(columns={column: column.upper()})
    out = frame.copy()
    out[column] = draw(odd_column(len(frame)))
    return out


ARBITRARY = st.one_of(
    mutated_frames(),
    hnp.arrays(
        st.sampled_from([np.dtype(t) for t in (np.float64, np.int64, np.bool_, "U3", "O")]),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7),
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from([*FEATURES, "other"]),
            st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=3), st.booleans()),
        )
    ),
    st.dictionaries(st.sampled_from(FEATURES), st.lists(st.floats(), max_size=3)),
    st.none(),
    st.integers(),
    st.text(max_size=5),
)


# -- properties -------------------------------------------------------------------------


@SETTINGS
@given(predictor=PREDICTOR, X=ARBITRARY, probabilities=st.sampled_from([None, True, False]))
def test_predict_succeeds_or_raises_a_registry_error(predictor: ModelPredictor, X: Any, probabilities: Any) -> None:
    try:
        result = predictor.predict(X, return_probabilities=probabilities)
    except RegistryError as exc:
        event(f"raised {type(exc).__name__}")
        return
    event("predicted")
    assert isinstance(result, np.ndarray) and len(result) >= 1


@SETTINGS
@given(predictor=PREDICTOR, X=ARBITRARY)
def test_validate_input_never_raises_and_agrees_with_predict(predictor: ModelPredictor, X: Any) -> None:
    report = predictor.validate_input(X)
    assert isinstance(report["valid"], bool) and isinstance(report["errors"], list)
    assert report["valid"] == (not report["errors"])
    try:
        predictor.predict(X)
    except SchemaError:
        assert not report["valid"], "predict refused input that validate_input called valid"
    except RegistryError:
        pass


@SETTINGS
@given(predictor=PREDICTOR, X=ARBITRARY, batch_size=st.integers(1, 9))
def test_predict_batch_succeeds_or_raises_a_registry_error(predictor: ModelPredictor, X: Any, batch_size: int) -> None:
    try:
        result = predictor.predict_batch(X, batch_size=batch_size)
    except RegistryError:
        return
    assert isinstance(result, np.ndarray)


@SETTINGS
@given(
    predictor=PREDICTOR,
    frame=valid_frames(),
    order=st.randoms(use_true_random=False),
    extras=st.lists(st.text(min_size=1, max_size=4).filter(lambda c: c not in FEATURES), max_size=3, unique=True),
)
def test_column_order_and_extra_columns_never_change_predictions(
    predictor: ModelPredictor, frame: pd.DataFrame, order: Any, extras: list[str]
) -> None:
    columns = list(frame.columns)
    order.shuffle(columns)
    messy = frame[columns].assign(**{name: 0 for name in extras})
    np.testing.assert_array_equal(predictor.predict(messy), predictor.predict(frame))


@SETTINGS
@given(
    predictor=PREDICTOR,
    frame=valid_frames(),
    batch_size=st.integers(1, 40),
    probabilities=st.sampled_from([None, False]),
)
def test_predict_batch_equals_predict(
    predictor: ModelPredictor, frame: pd.DataFrame, batch_size: int, probabilities: Any
) -> None:
    expected = predictor.predict(frame, return_probabilities=probabilities)
    got = predictor.predict_batch(frame, batch_size=batch_size, return_probabilities=probabilities)
    if probabilities is False:
        np.testing.assert_array_equal(got, expected)
    else:  # BLAS may round a matrix product differently for another row count (1 ulp)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
