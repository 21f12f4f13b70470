"""predict_batch: chunked inputs (frames, iterables, CSV, Parquet), streamed outputs,
and bounded memory on files of millions of rows."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from memory_registry import MemoryRegistry
from predictor_data import FEATURES, games, linear, logistic, trained

from fsregistry.errors import OutputExistsError, PredictorError, RegistryError, SchemaError
from fsregistry.predict.predictor import ModelPredictor

TESTS = Path(__file__).resolve().parent / "helpers"  # where the shared test modules live


def predictor_for(model: Any, artifact: Any, example: Any = None) -> ModelPredictor:
    reg = MemoryRegistry()
    uri = reg.save_model(model, "nba", preprocessor_artifact=artifact, input_example=example)
    return ModelPredictor(reg).load_model(uri)


@pytest.fixture
def predictor() -> ModelPredictor:
    train, artifact, model = trained()
    return predictor_for(model, artifact, train[FEATURES].head(3))


@pytest.fixture
def data() -> pd.DataFrame:
    return games(2_345, seed=5)


# -- same results as predict ------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 1000, 10_000])
def test_dataframe_in_batches_equals_predict(predictor: ModelPredictor, data: pd.DataFrame, batch_size: int) -> None:
    small = data.head(50) if batch_size == 1 else data
    np.testing.assert_array_equal(predictor.predict_batch(small, batch_size=batch_size), predictor.predict(small))


def test_seed_call_form(predictor: ModelPredictor, data: pd.DataFrame) -> None:
    out = predictor.predict_batch(data, batch_size=1000, return_probabilities=True)
    assert isinstance(out, np.ndarray) and out.shape == (len(data),)


def test_generator_of_dataframes(predictor: ModelPredictor, data: pd.DataFrame) -> None:
    def frames() -> Iterator[pd.DataFrame]:
        for start in range(0, len(data), 600):
            yield data.iloc[start : start + 600]

    np.testing.assert_array_equal(predictor.predict_batch(frames(), batch_size=250), predictor.predict(data))


def test_list_of_dataframes_and_of_rows(predictor: ModelPredictor, data: pd.DataFrame) -> None:
    parts = [data.iloc[:1000], data.iloc[1000:]]
    np.testing.assert_array_equal(predictor.predict_batch(parts), predictor.predict(data))
    rows = data[FEATURES].head(20).to_dict(orient="records")
    np.testing.assert_allclose(predictor.predict_batch(rows, batch_size=3), predictor.predict(rows))


def test_numpy_array_in_batches(predictor: ModelPredictor, data: pd.DataFrame) -> None:
    arr = data[FEATURES].to_numpy(dtype=object)
    np.testing.assert_allclose(predictor.predict_batch(arr, batch_size=400), predictor.predict(data))


@pytest.mark.parametrize("as_str", [True, False])
def test_parquet_and_csv_paths(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path, as_str: bool) -> None:
    data.to_parquet(tmp_path / "in.parquet", row_group_size=500)
    data.to_csv(tmp_path / "in.csv", index=False)
    expected = predictor.predict(data)
    for name in ("in.parquet", "in.csv"):
        path: Any = str(tmp_path / name) if as_str else tmp_path / name
        np.testing.assert_allclose(predictor.predict_batch(path, batch_size=300), expected, rtol=1e-6)


def test_labels_in_batches(predictor: ModelPredictor, data: pd.DataFrame) -> None:
    labels = predictor.predict_batch(data, batch_size=100, return_probabilities=False)
    np.testing.assert_array_equal(labels, predictor.predict(data, return_probabilities=False))


def test_chunks_never_exceed_batch_size(data: pd.DataFrame) -> None:
    numeric = ["home_elo", "away_elo"]
    model = linear(data[numeric].to_numpy(), data["home_win_pct"])
    predictor = predictor_for(model, {"preprocessor": SizeRecorder(), "feature_names_in": numeric})
    predictor.predict_batch(iter([data, data.head(10), data]), batch_size=700)
    recorder = predictor.preprocessor  # the registry's copy, the one that ran
    assert max(recorder.sizes) == 700 and sum(recorder.sizes) == 2 * len(data) + 10


class SizeRecorder:
    """A preprocessor that records how many rows each call got."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        self.sizes.append(len(X))
        return X.to_numpy(dtype=float)


def test_csv_text_columns_are_read_as_text(tmp_path: Path) -> None:
    """A team code like '07' stays a string; pandas alone would parse it as the number 7."""
    train = pd.DataFrame({"team": pd.array(["07", "10", "07", "22"] * 25, dtype="str"), "x": np.arange(100.0)})
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["team"]), ("num", StandardScaler(), ["x"])]
    )
    model = logistic(pre.fit_transform(train), np.arange(100) % 2)
    predictor = predictor_for(model, {"preprocessor": pre}, train.head(2))
    train.to_csv(tmp_path / "teams.csv", index=False)
    np.testing.assert_allclose(predictor.predict_batch(tmp_path / "teams.csv", batch_size=30), predictor.predict(train))


# -- writing ----------------------------------------------------------------------------


def test_csv_output_with_passthrough_ids(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path) -> None:
    out = predictor.predict_batch(data, batch_size=500, output_path=tmp_path / "pred.csv", id_columns=["game_id"])
    assert out == tmp_path / "pred.csv"
    written = pd.read_csv(out)
    assert list(written.columns) == ["game_id", "probability"]
    np.testing.assert_array_equal(written["game_id"], data["game_id"])
    np.testing.assert_allclose(written["probability"], predictor.predict(data), rtol=1e-6)


def test_id_columns_from_csv_are_copied_verbatim(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path) -> None:
    ids = [f"00223{i:05d}" for i in range(len(data))]  # NBA-style ids with leading zeros
    data.assign(game_id=ids).to_csv(tmp_path / "games.csv", index=False)
    out = predictor.predict_batch(
        tmp_path / "games.csv", batch_size=500, output_path=tmp_path / "pred.csv", id_columns=["game_id"]
    )
    assert pd.read_csv(out, dtype={"game_id": str})["game_id"].tolist() == ids


def test_id_cells_that_pandas_would_read_as_missing_are_copied_as_written(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path
) -> None:
    """``NA``, ``null``, ``nan`` in an id column are ids; in a feature column they still
    mean missing, as pandas reads them."""
    ids = ["NA", "null", "nan", "None", "0022300001", ""] + [f"g{i}" for i in range(len(data) - 6)]
    frame = data.assign(game_id=ids)
    text = frame.to_csv(index=False).replace(f",{frame['home_elo'].iloc[1]},", ",NA,", 1)
    (tmp_path / "games.csv").write_text(text)
    out = predictor.predict_batch(
        tmp_path / "games.csv", batch_size=500, output_path=tmp_path / "pred.csv", id_columns=["game_id"]
    )
    written = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
    assert written == ids
    expected = predictor.predict(pd.read_csv(tmp_path / "games.csv"), return_probabilities=True)
    assert np.isnan(pd.read_csv(tmp_path / "games.csv")["home_elo"].iloc[1])  # the feature cell is missing
    got = pd.read_csv(out, keep_default_na=False)["probability"].to_numpy(dtype=float)
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # float32 probabilities, as text


def test_an_id_column_named_twice_is_refused_for_every_output(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path
) -> None:
    for output in ("p.csv", "p.parquet"):
        with pytest.raises(PredictorError, match="'game_id' more than once"):
            predictor.predict_batch(data, output_path=tmp_path / output, id_columns=["game_id", "game_id"])
        assert not (tmp_path / output).exists()


def test_parquet_output_with_a_column_changing_type_is_a_clear_error(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path
) -> None:
    first, second = data.head(10).assign(ref=range(10)), data.iloc[10:20].assign(ref=[f"G{i}" for i in range(10)])
    with pytest.raises(PredictorError, match="column types changed between batches: ref"):
        predictor.predict_batch(
            [first, second], batch_size=10, output_path=tmp_path / "out.parquet", id_columns=["ref"]
        )
    assert not (tmp_path / "out.parquet").exists()


def test_parquet_to_parquet(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path) -> None:
    data.to_parquet(tmp_path / "in.parquet", row_group_size=1000)
    out = predictor.predict_batch(
        str(tmp_path / "in.parquet"), batch_size=400, output_path=str(tmp_path / "pred.parquet"), id_columns="game_id"
    )
    written = pd.read_parquet(out)
    np.testing.assert_array_equal(written["game_id"], data["game_id"])
    np.testing.assert_array_equal(written["probability"], predictor.predict(data))
    assert pq.ParquetFile(out).metadata.num_row_groups >= 6  # one row group per chunk of <= 400 rows


def test_multiclass_writes_one_column_per_class(data: pd.DataFrame, tmp_path: Path) -> None:
    train, artifact, _ = trained()
    y = train["rest_days"].map({0: "rested", 1: "rested", 2: "normal", 3: "tired", 4: "tired"})
    model = logistic(artifact["preprocessor"].transform(train[FEATURES]), y)
    predictor = predictor_for(model, artifact)
    out = predictor.predict_batch(data, output_path=tmp_path / "p.parquet", id_columns=["game_id"])
    written = pd.read_parquet(out)
    assert list(written.columns) == ["game_id", "probability_normal", "probability_rested", "probability_tired"]
    np.testing.assert_allclose(written.iloc[:, 1:].to_numpy(), predictor.predict(data))


def test_labels_and_values_are_written_as_prediction(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path
) -> None:
    out = predictor.predict_batch(data, output_path=tmp_path / "l.csv", return_probabilities=False)
    assert list(pd.read_csv(out).columns) == ["prediction"]


def test_a_failure_mid_stream_leaves_no_output(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "pred.csv"
    target.write_text("previous results\n")
    bad = data.assign(rest_days=data["rest_days"] + 0.5)
    with pytest.raises(SchemaError, match="rest_days"):
        predictor.predict_batch(iter([data, bad]), output_path=target, id_columns=["game_id"])
    assert target.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.csv"]


def test_an_existing_output_file_is_replaced_when_the_run_succeeds(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path
) -> None:
    target = tmp_path / "pred.csv"
    target.write_text("previous results\n")
    predictor.predict_batch(data, output_path=target)
    np.testing.assert_allclose(pd.read_csv(target)["probability"], predictor.predict(data), rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.csv"]


def same_file_spellings(tmp_path: Path, source: Path) -> list[Path]:
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(source)
    (tmp_path / "hard.csv").hardlink_to(source)
    return [source, tmp_path / "sub" / ".." / source.name, tmp_path / "link.csv", tmp_path / "hard.csv"]


@pytest.mark.parametrize("spelling", range(4))
def test_the_input_file_is_never_the_output(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path, spelling: int
) -> None:
    source = tmp_path / "games.csv"
    data.to_csv(source, index=False)
    before = source.read_bytes()
    output = same_file_spellings(tmp_path, source)[spelling]
    with pytest.raises(OutputExistsError, match="is the input file") as info:
        predictor.predict_batch(source, output_path=output, id_columns=["game_id"])
    assert isinstance(info.value, RegistryError) and info.value.path == str(output)
    assert source.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_a_write_removes_what_killed_writes_of_the_same_output_left(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path
) -> None:
    """``kill -9`` leaves a writer's temporary file behind; the next write of that output
    removes those of this machine whose process is gone, and leaves alone a live writer's,
    another machine's (whose processes cannot be asked) and another output's."""
    from fsregistry.predict import batch

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    assert dead.wait() == 0  # reaped: its pid names no process now
    host = batch._host_tag()
    left = tmp_path / f".pred.csv.{host}-{dead.pid}.0123abcd.partial"
    kept = [
        tmp_path / f".pred.csv.{host}-1.0123abcd.partial",  # pid 1 always runs
        tmp_path / f".pred.csv.ffffffff-{dead.pid}.0123abcd.partial",  # another machine's
        tmp_path / f".pred.csv.31999.csv.{host}-{dead.pid}.0123abcd.partial",  # the output pred.csv.31999.csv's
        tmp_path / f".other.csv.{host}-{dead.pid}.0123abcd.partial",
    ]
    for path in (left, *kept):
        path.write_text("half")
    predictor.predict_batch(data, output_path=tmp_path / "pred.csv")
    assert not left.exists() and all(path.exists() for path in kept)


def test_the_cli_refuses_to_write_predictions_over_its_input(data: pd.DataFrame, tmp_path: Path) -> None:
    from fsregistry import CustomModelRegistry
    from fsregistry.cli import main

    train, artifact, model = trained()
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(model, "m", preprocessor_artifact=artifact, input_example=train[FEATURES].head(2))
    source = tmp_path / "games.csv"
    data.to_csv(source, index=False)
    before = source.read_bytes()
    assert main(["--root", str(registry.root), "predict", "m/1", str(source), str(source)]) != 0
    assert source.read_bytes() == before


def test_empty_iterable_writes_nothing(predictor: ModelPredictor, tmp_path: Path) -> None:
    with pytest.raises(PredictorError, match="no rows"):
        predictor.predict_batch(iter([]), output_path=tmp_path / "p.csv")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(PredictorError, match="no rows"):
        predictor.predict_batch(iter([]))


# -- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "10"])
def test_batch_size_must_be_a_positive_integer(predictor: ModelPredictor, data: pd.DataFrame, size: Any) -> None:
    with pytest.raises(PredictorError, match="batch_size"):
        predictor.predict_batch(data, batch_size=size)


def test_id_columns_need_an_output_path(predictor: ModelPredictor, data: pd.DataFrame) -> None:
    with pytest.raises(PredictorError, match="output_path"):
        predictor.predict_batch(data, id_columns=["game_id"])


def test_missing_id_column(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="nope"):
        predictor.predict_batch(data, output_path=tmp_path / "p.csv", id_columns=["nope"])
    with pytest.raises(SchemaError, match="array"):
        predictor.predict_batch(
            data[FEATURES].to_numpy(dtype=object), output_path=tmp_path / "p.csv", id_columns=["game_id"]
        )


def test_id_column_clashing_with_the_prediction_column(
    predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(PredictorError, match="clash"):
        predictor.predict_batch(data.assign(probability=1), output_path=tmp_path / "p.csv", id_columns=["probability"])


def test_unknown_formats_and_missing_files(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a,b\n")
    with pytest.raises(PredictorError, match=r"\.csv or \.parquet"):
        predictor.predict_batch(tmp_path / "in.txt")
    with pytest.raises(PredictorError, match="does not exist"):
        predictor.predict_batch(tmp_path / "missing.csv")
    with pytest.raises(PredictorError, match=r"\.csv or \.parquet"):
        predictor.predict_batch(data, output_path=tmp_path / "out.json")
    with pytest.raises(PredictorError, match="does not exist"):
        predictor.predict_batch(data, output_path=tmp_path / "no" / "out.csv")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_without_the_models_columns_lists_them_all(
    predictor: ModelPredictor, tmp_path: Path, suffix: str
) -> None:
    source = tmp_path / f"unrelated{suffix}"
    frame = pd.DataFrame({"city": ["Boston", "Denver"], "population": [650_000, 715_000]})
    frame.to_csv(source, index=False) if suffix == ".csv" else frame.to_parquet(source)
    with pytest.raises(SchemaError, match="missing required columns") as info:
        predictor.predict_batch(source, output_path=tmp_path / "out.csv")
    assert all(repr(c) in str(info.value) for c in FEATURES)
    assert "no rows" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]
    with pytest.raises(SchemaError, match=r"missing required columns: .*; id columns not in the input file: \['ref'\]"):
        predictor.predict_batch(source, output_path=tmp_path / "out.csv", id_columns=["ref"])


def test_unreadable_csv_files_are_predictor_errors(predictor: ModelPredictor, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(PredictorError, match="empty"):
        predictor.predict_batch(tmp_path / "empty.csv")
    row = "1500.0,1490.0,2,0.5,False,BOS"
    (tmp_path / "broken.csv").write_text("\n".join([",".join(FEATURES), row, row.replace("BOS", '"BOS'), row]))
    with pytest.raises(PredictorError, match=r"cannot read .*broken.csv as CSV") as info:
        predictor.predict_batch(tmp_path / "broken.csv")
    assert isinstance(info.value.__cause__, pd.errors.ParserError)
    (tmp_path / "latin1.csv").write_bytes(
        ("\n".join([",".join(FEATURES), row, row.replace("BOS", "BÖS")])).encode("latin-1")
    )
    with pytest.raises(PredictorError, match=r"cannot read .*latin1.csv as CSV"):
        predictor.predict_batch(tmp_path / "latin1.csv")


def test_parquet_id_columns_keep_their_types(predictor: ModelPredictor, data: pd.DataFrame, tmp_path: Path) -> None:
    ids = data.assign(
        gid=np.arange(len(data), dtype=np.int64),
        ratio=np.linspace(0, 1, len(data)),
        day=pd.date_range("2024-01-01", periods=len(data), freq="h"),
    )
    ids.to_parquet(tmp_path / "in.parquet")
    columns = ["gid", "ratio", "day"]
    out = pd.read_parquet(
        predictor.predict_batch(
            tmp_path / "in.parquet", batch_size=500, output_path=tmp_path / "p.parquet", id_columns=columns
        )
    )
    pd.testing.assert_frame_equal(out[columns], ids[columns].reset_index(drop=True), check_dtype=False)
    assert out["gid"].dtype == np.int64 and out["ratio"].dtype == np.float64
    assert pd.api.types.is_datetime64_any_dtype(out["day"])


def test_iterable_of_something_else(predictor: ModelPredictor) -> None:
    with pytest.raises(PredictorError, match="must yield DataFrames"):
        predictor.predict_batch(iter([1, 2, 3]))
    with pytest.raises(PredictorError):
        predictor.predict_batch(42)


# -- progress ---------------------------------------------------------------------------


def test_progress_bar(predictor: ModelPredictor, data: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    predictor.predict_batch(data, batch_size=500, progress=True)
    assert "2345/2345" in capsys.readouterr().err


def test_progress_without_tqdm_is_a_clear_error(
    predictor: ModelPredictor, data: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(PredictorError, match=r"fsregistry\[progress\]"):
        predictor.predict_batch(data, progress=True)


# -- millions of rows, bounded memory ---------------------------------------------------

N_ROWS = 3_000_000
CHUNK = 250_000
#: generous bound on RSS growth during predict_batch; the same rows held in memory as a
#: DataFrame take ~200 MB, and reading the CSV in one go peaks far above that
MAX_GROWTH_MB = 150

CHILD = """
import json, resource, sys, psutil, cloudpickle
from memory_registry import MemoryRegistry
from fsregistry.predict.predictor import ModelPredictor

def reset_peak():
    try:  # Linux: start a fresh peak-RSS (VmHWM) count, so import-time peaks do not hide growth
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass

def peak():
    try:
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

model, artifact, example = cloudpickle.load(open(sys.argv[1], "rb"))
reg = MemoryRegistry()
reg.save_model(model, "nba", preprocessor_artifact=artifact, input_example=example)
predictor = ModelPredictor(reg).load_model("nba/1")
predictor.predict(example)
reset_peak()
baseline = psutil.Process().memory_info().rss
predictor.predict_batch(sys.argv[2], batch_size=20_000, output_path=sys.argv[3], id_columns=["game_id"])
print(json.dumps({"baseline": baseline, "peak": peak()}))
"""


def chunks_of_games() -> Iterator[pd.DataFrame]:
    for seed in range(N_ROWS // CHUNK):
        yield games(CHUNK, seed=seed).round({"home_elo": 3, "away_elo": 3, "home_win_pct": 4})


def write_parquet(path: Path) -> None:
    writer = None
    for frame in chunks_of_games():
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=100_000)
    assert writer is not None
    writer.close()


def write_csv(path: Path) -> None:
    with open(path, "w", newline="") as fh:
        for i, frame in enumerate(chunks_of_games()):
            frame.to_csv(fh, header=i == 0, index=False)


def run_child(tmp_path: Path, source: Path, output: Path) -> dict[str, int]:
    train, artifact, model = trained()
    blob = tmp_path / "model.pkl"
    blob.write_bytes(cloudpickle.dumps((model, artifact, train[FEATURES].head(5))))
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(blob), str(source), str(output)],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def parquet_rows(source: Path, start: int, n: int) -> pd.DataFrame:
    """Rows ``start .. start+n`` of a Parquet file, reading only the row groups that hold them."""
    handle = pq.ParquetFile(source)
    offset, groups, first = 0, [], None
    for index in range(handle.metadata.num_row_groups):
        size = handle.metadata.row_group(index).num_rows
        if offset + size > start and offset < start + n:
            groups.append(index)
            first = offset if first is None else first
        offset += size
    assert first is not None
    frame = handle.read_row_groups(groups).to_pandas()
    return frame.iloc[start - first : start - first + n].reset_index(drop=True)


def sample_rows(source: Path, starts: list[int], n: int) -> list[pd.DataFrame]:
    if source.suffix == ".parquet":
        return [parquet_rows(source, s, n) for s in starts]
    return [pd.read_csv(source, skiprows=range(1, s + 1), nrows=n, dtype={"home_team": str}) for s in starts]


def check_big_file(tmp_path: Path, source: Path, output: Path) -> None:
    usage = run_child(tmp_path, source, output)
    growth_mb = (usage["peak"] - usage["baseline"]) / 2**20
    assert growth_mb < MAX_GROWTH_MB, f"predict_batch grew RSS by {growth_mb:.0f} MB"
    written = pd.read_parquet(output) if output.suffix == ".parquet" else pd.read_csv(output)
    assert len(written) == N_ROWS and written["game_id"].is_unique
    train, artifact, model = trained()
    predictor = predictor_for(model, artifact, train[FEATURES].head(3))
    starts = [0, 1_234_567, N_ROWS - 1_000]
    for start, rows in zip(starts, sample_rows(source, starts, 1_000), strict=True):
        got = written.iloc[start : start + 1_000]
        np.testing.assert_array_equal(got["game_id"].to_numpy(), rows["game_id"].to_numpy())
        np.testing.assert_allclose(got["probability"].to_numpy(), predictor.predict(rows), rtol=1e-6)


@pytest.mark.slow
def test_three_million_rows_from_parquet_in_bounded_memory(tmp_path: Path) -> None:
    source = tmp_path / "games.parquet"
    write_parquet(source)
    check_big_file(tmp_path, source, tmp_path / "predictions.parquet")


@pytest.mark.slow
def test_three_million_rows_from_csv_in_bounded_memory(tmp_path: Path) -> None:
    source = tmp_path / "games.csv"
    write_csv(source)
    check_big_file(tmp_path, source, tmp_path / "predictions.csv")
