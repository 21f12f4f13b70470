"""predict_batch on Dask: a real two-process ``LocalCluster``, multi-file Parquet data sets,
results equal to in-memory ``predict``, a worker killed mid-job, a promotion during a job,
a bad partition, and bounded worker memory.  Tests without the cluster use Dask's local
scheduler (no client)."""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import shutil
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import psutil
import pytest
from dask_helpers import Gate, peak_rss, reset_peak, rss, wait_for_file, warm
from memory_registry import MemoryRegistry
from predictor_data import FEATURES, NUMERIC, fit_artifact, games, trained, xgb_classifier

from fsregistry import CustomModelRegistry, ModelPredictor
from fsregistry.cli import main
from fsregistry.errors import IntegrityError, InvalidArgumentError, OutputExistsError, PredictorError, SchemaError
from fsregistry.predict import distributed

dd = pytest.importorskip("dask.dataframe")
dask_distributed = pytest.importorskip("dask.distributed")


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One cluster for the module: two worker processes, one thread each; reaped at the end."""
    cluster = dask_distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = dask_distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        pids = [p for p in (*_worker_pids(client).values(), *_nanny_pids(cluster)) if p]
        client.close()
        cluster.close()
        _, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=60)
        assert not alive, f"worker processes left running: {alive}"


def _worker_pids(client: Any) -> dict[str, int]:
    return dict(client.run(os.getpid))


def _nanny_pids(cluster: Any) -> list[int]:
    return [w.process.pid for w in cluster.workers.values() if getattr(w, "process", None) is not None]


@pytest.fixture
def registry(tmp_path: Path) -> CustomModelRegistry:
    return CustomModelRegistry(tmp_path / "registry")


@pytest.fixture
def xgb_uri(registry: CustomModelRegistry) -> str:
    train, artifact, model = trained()
    return registry.save_model(model, "nba", preprocessor_artifact=artifact, input_example=train[FEATURES].head(3))


def write_dataset(folder: Path, files: int, rows: int, row_group: int, first_seed: int = 10) -> pd.DataFrame:
    """``files`` Parquet files of ``rows`` games each; returns them as one frame, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = [games(rows, seed=first_seed + i) for i in range(files)]
    for i, frame in enumerate(frames):
        frame.to_parquet(folder / f"part-{i}.parquet", row_group_size=row_group, index=False)
    return pd.concat(frames, ignore_index=True)


def read_output(folder: Path) -> pd.DataFrame:
    parts = sorted(folder.iterdir())
    assert parts and all(p.name.startswith("part-") and p.suffix == ".parquet" for p in parts)
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def gated_registry(root: Path, gate_dir: Path) -> tuple[CustomModelRegistry, pd.DataFrame]:
    """Version 1: the seed pipeline behind a :class:`Gate`; version 2: another XGBoost."""
    gate_dir.mkdir()
    train = games(1500)
    artifact, transformed = fit_artifact(train)
    registry = CustomModelRegistry(root)
    example = train[FEATURES].head(3)
    gated = {**artifact, "preprocessor": Gate(artifact["preprocessor"], gate_dir)}
    model = xgb_classifier(transformed, train["home_win"])
    registry.save_model(model, "nba", preprocessor_artifact=gated, input_example=example)
    other = xgb_classifier(transformed, train["home_win"], n_estimators=3, max_depth=2)
    registry.save_model(other, "nba", preprocessor_artifact=artifact, input_example=example)
    return registry, train


# -- same results as predict, on the cluster --------------------------------------------------


@pytest.mark.slow
def test_xgboost_parquet_data_set_on_the_cluster(
    client: Any, registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path
) -> None:
    data = write_dataset(tmp_path / "data", files=4, rows=1_500, row_group=400)
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    client.run(distributed.clear_worker_cache)
    assert len(distributed.preload(client, predictor)) == 2  # each worker loads it now, not in its first task

    out = predictor.predict_batch(
        tmp_path / "data", batch_size=800, output_path=tmp_path / "out", id_columns=["game_id"], dask=client
    )

    assert out == tmp_path / "out"
    written = read_output(out)
    assert list(written.columns) == ["game_id", "probability"]
    np.testing.assert_array_equal(written["game_id"], data["game_id"])
    np.testing.assert_array_equal(written["probability"].to_numpy(), predictor.predict(data))
    assert len(list(out.iterdir())) == 8  # two row groups (800 rows) per partition, 4 files
    loads = [entry for entries in client.run(distributed.worker_cache).values() for entry in entries]
    assert {(e["name"], e["version"], e["loads"]) for e in loads} == {("nba", 1, 1)}  # once per worker, 8 partitions
    assert len(loads) == 2 and all(e["root"] == str(registry.root.resolve()) for e in loads)

    as_array = predictor.predict_batch(str(tmp_path / "data" / "*.parquet"), batch_size=800, dask=client)
    np.testing.assert_array_equal(as_array, predictor.predict(data))
    labels = predictor.predict_batch(tmp_path / "data", return_probabilities=False, dask=client)
    np.testing.assert_array_equal(labels, predictor.predict(data, return_probabilities=False))
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_torch_model_lazy_on_the_cluster_with_pickle_refused(client: Any, tmp_path: Path) -> None:
    torch_models = pytest.importorskip("torch_models")
    registry = CustomModelRegistry(tmp_path / "registry", allow_pickle=False)
    frame = games(3_000, seed=3)
    uri = registry.save_model(
        torch_models.trained_mlp(),
        "net",
        torch_format="state_dict",
        model_factory=torch_models.make_mlp,
        input_example=frame[NUMERIC].head(3),
        tags={"output_kind": "logits"},
    )
    predictor = ModelPredictor(registry).load_model(uri, model_factory=torch_models.make_mlp)
    expected = predictor.predict(frame)
    client.run(distributed.clear_worker_cache)

    lazy = predictor.predict_batch(dd.from_pandas(frame, npartitions=5), id_columns=["game_id"])
    assert list(lazy.columns) == ["game_id", "probability_0", "probability_1", "probability_2"]
    result = client.compute(lazy).result()

    np.testing.assert_array_equal(result["game_id"], frame["game_id"])
    np.testing.assert_array_equal(result.drop(columns="game_id").to_numpy(), expected)
    labels = client.compute(predictor.predict_batch(dd.from_pandas(frame, npartitions=3), return_probabilities=False))
    np.testing.assert_array_equal(labels.result().to_numpy(), predictor.predict(frame, return_probabilities=False))
    loads = [entry for entries in client.run(distributed.worker_cache).values() for entry in entries]
    assert loads and all(e["allow_pickle"] is False and e["verify"] is True and e["loads"] == 1 for e in loads)


@pytest.mark.slow
def test_scheduler_address_and_cli(
    client: Any, registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_dataset(tmp_path / "data", files=2, rows=700, row_group=350)
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    address = client.scheduler.address
    np.testing.assert_array_equal(predictor.predict_batch(tmp_path / "data", dask=address), predictor.predict(data))

    argv = ["--root", str(registry.root), "--json", "predict", "nba/1", str(tmp_path / "data"), str(tmp_path / "out")]
    capsys.readouterr()
    code = main([*argv, "--id-column", "game_id", "--dask-scheduler", address, "--progress"])
    assert code == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["output"] == str(tmp_path / "out")  # the progress bar is on stderr
    assert "100%" in printed.err
    written = read_output(tmp_path / "out")
    np.testing.assert_array_equal(written["game_id"], data["game_id"])
    np.testing.assert_array_equal(written["probability"].to_numpy(), predictor.predict(data))


@pytest.mark.slow
def test_cli_workers_runs_a_local_cluster(
    client: Any, registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--workers N`` asks for a LocalCluster of N one-thread processes (here it gets the
    module's cluster, to keep to one cluster per test module)."""
    data = write_dataset(tmp_path / "data", files=2, rows=500, row_group=250)
    asked: list[dict[str, Any]] = []
    cluster = client.cluster

    class Borrowed:
        def __init__(self, **kwargs: Any) -> None:
            asked.append(kwargs)

        def __enter__(self) -> Any:
            return cluster

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(dask_distributed, "LocalCluster", Borrowed)
    code = main(
        [
            "--root",
            str(registry.root),
            "predict",
            "nba/1",
            str(tmp_path / "data"),
            str(tmp_path / "out"),
            "--workers",
            "2",
        ]
    )
    assert code == 0
    assert asked == [{"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None}]
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    np.testing.assert_array_equal(read_output(tmp_path / "out")["probability"].to_numpy(), predictor.predict(data))
    assert len(client.run(os.getpid)) == 2  # the module's cluster is still up


# -- failures during a job ----------------------------------------------------------------------


@pytest.mark.slow
def test_worker_killed_mid_job_completes_without_missing_or_duplicated_rows(client: Any, tmp_path: Path) -> None:
    gate_dir = tmp_path / "gate"
    registry, _ = gated_registry(tmp_path / "registry", gate_dir)
    data = write_dataset(tmp_path / "data", files=3, rows=1_000, row_group=250)
    predictor = ModelPredictor(registry).load_model("nba/1")
    expected = predictor.predict(data)  # the gate never holds the process that built it
    before = _worker_pids(client)
    (gate_dir / "armed").touch()

    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(
            predictor.predict_batch,
            tmp_path / "data",
            batch_size=500,
            output_path=tmp_path / "out",
            id_columns=["game_id"],
            dask=client,
        )
        started = wait_for_file(gate_dir, "started-*")  # a task is running, in this worker process
        victim = int(started.name.split("-")[1])
        assert victim in before.values()
        os.kill(victim, signal.SIGKILL)
        (gate_dir / "go").touch()
        out = job.result(timeout=600)

    written = read_output(out)
    assert len(written) == len(data) and written["game_id"].is_unique
    np.testing.assert_array_equal(written["game_id"], data["game_id"])
    np.testing.assert_array_equal(written["probability"].to_numpy(), expected)
    assert leftovers(tmp_path) == []
    client.wait_for_workers(2, timeout=120)
    assert victim not in _worker_pids(client).values()


@pytest.mark.slow
def test_promotion_during_a_job_does_not_change_its_version(client: Any, tmp_path: Path) -> None:
    gate_dir = tmp_path / "gate"
    registry, _ = gated_registry(tmp_path / "registry", gate_dir)
    registry.transition_model_stage("nba/1", "Production")
    data = write_dataset(tmp_path / "data", files=2, rows=800, row_group=200)
    predictor = ModelPredictor(registry).load_model("models:/nba/Production")
    v1 = predictor.predict(data)
    v2 = ModelPredictor(registry).load_model("nba/2").predict(data)
    assert not np.array_equal(v1, v2)
    client.run(distributed.clear_worker_cache)
    (gate_dir / "armed").touch()

    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(predictor.predict_batch, tmp_path / "data", batch_size=200, dask=client)
        wait_for_file(gate_dir, "started-*")  # the job is running
        registry.transition_model_stage("nba/2", "Production")
        (gate_dir / "go").touch()
        result = job.result(timeout=600)

    assert registry.get_model_version("models:/nba/Production")["version"] == 2
    np.testing.assert_array_equal(result, v1)
    loaded = {e["version"] for entries in client.run(distributed.worker_cache).values() for e in entries}
    assert loaded == {1}


@pytest.mark.slow
def test_missing_column_in_one_file_names_it_and_leaves_no_output(
    client: Any, registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path
) -> None:
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    write_dataset(tmp_path / "good", files=2, rows=300, row_group=100)
    earlier = predictor.predict_batch(tmp_path / "good", output_path=tmp_path / "out", dask=client)
    before = {p.name: p.read_bytes() for p in earlier.iterdir()}
    write_dataset(tmp_path / "data", files=3, rows=300, row_group=100)
    pd.read_parquet(tmp_path / "data" / "part-1.parquet").drop(columns="home_elo").to_parquet(
        tmp_path / "data" / "part-1.parquet", index=False
    )

    with pytest.raises(SchemaError, match=r"part-1\.parquet.*home_elo"):
        predictor.predict_batch(tmp_path / "data", output_path=tmp_path / "out", dask=client)

    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before  # the earlier output, untouched
    with pytest.raises(SchemaError, match=r"part-1\.parquet.*home_elo"):
        predictor.predict_batch(tmp_path / "data", output_path=tmp_path / "new", dask=client)
    assert not (tmp_path / "new").exists() and leftovers(tmp_path) == []


@pytest.mark.slow
def test_bad_values_in_one_partition_fail_on_the_worker_naming_file_and_column(
    client: Any, registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path
) -> None:
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    write_dataset(tmp_path / "data", files=4, rows=400, row_group=100)
    bad = pd.read_parquet(tmp_path / "data" / "part-3.parquet")
    bad["home_elo"] = bad["home_elo"].astype(str)
    bad.loc[7, "home_elo"] = "n/a"
    bad.to_parquet(tmp_path / "data" / "part-3.parquet", row_group_size=100, index=False)

    with pytest.raises(SchemaError) as caught:
        predictor.predict_batch(tmp_path / "data", batch_size=100, output_path=tmp_path / "out", dask=client)

    message = str(caught.value)  # any of the file's four partitions may fail first: the column is text in all
    assert re.match(r"partition 1[2-5] \(input file part-3\.parquet, row group [0-3]\): .*'home_elo'", message), message
    assert caught.value.path is not None and caught.value.path.endswith("part-3.parquet")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


# -- memory ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_worker_peak_memory_is_bounded_by_the_partition_not_the_data_set(
    client: Any, registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path
) -> None:
    """Each worker's peak RSS growth over a job of 8 files (120 partitions) stays far below
    the data set and no larger than over a job of one file (15 partitions)."""
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    client.wait_for_workers(2, timeout=120)
    files, rows, partition = 8, 300_000, 20_000
    pin = distributed.pin_version(predictor)
    write_dataset(tmp_path / "small", files=1, rows=rows, row_group=partition)
    data = write_dataset(tmp_path / "data", files=files, rows=rows, row_group=partition, first_seed=20)
    data_bytes = int(data.memory_usage(deep=True).sum())
    del data
    (tmp_path / "warm").mkdir()
    done = client.run(warm, pin, str(tmp_path / "small" / "part-0.parquet"), str(tmp_path / "warm"))
    assert list(done.values()) == [partition, partition]  # every worker paid its first-use costs

    def growth(source: Path, out: Path) -> dict[str, int]:
        """Each worker's peak RSS growth over one job (in bytes)."""
        resettable = all(client.run(reset_peak).values())
        before = client.run(rss if resettable else peak_rss)
        predictor.predict_batch(source, batch_size=partition, output_path=out, id_columns=["game_id"], dask=client)
        peaks = client.run(peak_rss)
        return {worker: peaks[worker] - before[worker] for worker in before}

    growth(tmp_path / "small", tmp_path / "warm-out")  # Dask's and the allocators' first-job costs
    small = growth(tmp_path / "small", tmp_path / "small-out")
    big = growth(tmp_path / "data", tmp_path / "out")

    assert len(read_output(tmp_path / "out")) == files * rows
    # a worker holding the data set, or a growing share of it, would grow by data_bytes / 2
    # or more (and by 7/16 of data_bytes more than over one file)
    assert max(big.values()) < data_bytes / 4, (big, small, data_bytes)
    assert max(big.values()) < max(small.values()) + data_bytes / 8, (big, small, data_bytes)


# -- the task graph ------------------------------------------------------------------------------


def test_task_graph_carries_the_pin_not_the_model(registry: CustomModelRegistry, xgb_uri: str) -> None:
    from sklearn.compose import ColumnTransformer
    from xgboost import XGBClassifier

    from fsregistry.predict.loaded import LoadedModel

    predictor = ModelPredictor(registry).load_model(xgb_uri)
    lazy = predictor.predict_batch(dd.from_pandas(games(300, seed=4), npartitions=3))
    heavy = (XGBClassifier, ColumnTransformer, LoadedModel, ModelPredictor, CustomModelRegistry)
    seen: list[Any] = []

    class Spy(cloudpickle.Pickler):
        def persistent_id(self, obj: Any) -> None:
            if isinstance(obj, (*heavy, distributed.VersionPin)):
                seen.append(obj)

    Spy(_Sink(), protocol=pickle.HIGHEST_PROTOCOL).dump(dict(lazy.__dask_graph__()))
    assert not [o for o in seen if isinstance(o, heavy)]
    pins = {o for o in seen if isinstance(o, distributed.VersionPin)}
    assert {(p.name, p.version, p.root) for p in pins} == {("nba", 1, str(registry.root.resolve()))}
    (pin,) = pins
    stored = registry.get_model_version("nba/1")["files"]
    assert dict(pin.hashes) == {name: info["sha256"] for name, info in stored.items()}


class _Sink:
    def write(self, data: bytes) -> int:
        return len(data)


# -- Dask's local scheduler (no client) --------------------------------------------------------------


def test_no_client_parquet_folder_glob_and_frames(registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", files=3, rows=500, row_group=200)
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    expected = predictor.predict(data)

    np.testing.assert_array_equal(predictor.predict_batch(tmp_path / "data", dask=True), expected)
    np.testing.assert_array_equal(
        predictor.predict_batch(str(tmp_path / "data" / "part-*.parquet"), dask="synchronous", batch_size=150), expected
    )
    np.testing.assert_array_equal(predictor.predict_batch(data, batch_size=333, dask="threads"), expected)
    lazy = predictor.predict_batch(dd.from_pandas(data, npartitions=4))
    assert lazy.name == "probability" and lazy.dtype == expected.dtype
    np.testing.assert_array_equal(lazy.compute().to_numpy(), expected)
    out = predictor.predict_batch(
        dd.from_pandas(data, npartitions=2), output_path=tmp_path / "out", id_columns=["game_id"]
    )
    np.testing.assert_array_equal(read_output(out)["probability"].to_numpy(), expected)


def test_lazy_result_keeps_the_input_index(registry: CustomModelRegistry, xgb_uri: str) -> None:
    data = games(200, seed=7).set_index("game_id")
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    result = predictor.predict_batch(dd.from_pandas(data, npartitions=3), return_probabilities=False).compute()
    assert result.name == "prediction" and result.index.equals(data.index)
    np.testing.assert_array_equal(result.to_numpy(), predictor.predict(data, return_probabilities=False))


def test_bad_partition_of_a_dask_dataframe_is_named(registry: CustomModelRegistry, xgb_uri: str) -> None:
    frames = [games(50, seed=s) for s in range(3)]
    frames[2]["home_elo"] = "n/a"
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    lazy = predictor.predict_batch(dd.from_map(lambda i: frames[i], range(3), meta=frames[0].iloc[:0]))
    with pytest.raises(SchemaError, match=r"partition 2 of the Dask DataFrame: .*home_elo"):
        lazy.compute(scheduler="synchronous")


def test_dask_dataframe_without_a_model_column_is_refused_before_running(
    registry: CustomModelRegistry, xgb_uri: str
) -> None:
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    frame = dd.from_pandas(games(100).drop(columns="away_elo"), npartitions=2)
    with pytest.raises(SchemaError, match="away_elo"):
        predictor.predict_batch(frame)
    with pytest.raises(SchemaError, match="nope"):
        predictor.predict_batch(dd.from_pandas(games(100), npartitions=2), id_columns=["nope"])


def test_workers_refuse_a_registry_whose_version_changed(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    train, artifact, model = trained()
    registry = CustomModelRegistry(root)
    predictor = ModelPredictor(registry).load_model(registry.save_model(model, "nba", preprocessor_artifact=artifact))
    lazy = predictor.predict_batch(dd.from_pandas(games(100), npartitions=2))
    shutil.rmtree(root)  # the same path, recreated: version 1 is now another model
    CustomModelRegistry(root).save_model(
        xgb_classifier(fit_artifact(train)[1], train["home_win"], n_estimators=2), "nba"
    )
    distributed.clear_worker_cache()
    with pytest.raises(IntegrityError, match=r"nba/1 .*not the version the job was built with"):
        lazy.compute(scheduler="synchronous")
    shutil.rmtree(root)
    distributed.clear_worker_cache()
    with pytest.raises(PredictorError, match="cannot open the registry"):
        lazy.compute(scheduler="synchronous")


def test_worker_cache_keeps_the_most_recent_versions(
    registry: CustomModelRegistry, xgb_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, artifact, model = trained()
    second = registry.save_model(model, "nba", preprocessor_artifact=artifact, input_example=train[FEATURES].head(3))
    pins = [distributed.pin_version(ModelPredictor(registry).load_model(uri)) for uri in (xgb_uri, second)]
    monkeypatch.setattr(distributed, "CACHE_SIZE", 1)
    distributed.clear_worker_cache()
    first = distributed.predictor_for(pins[0])
    assert distributed.predictor_for(pins[0]) is first  # cached
    distributed.predictor_for(pins[1])  # evicts version 1
    distributed.predictor_for(pins[0])
    seen = {(e["version"], e["loads"], e["cached"]) for e in distributed.worker_cache()}
    assert seen == {(1, 2, True), (2, 1, False)}
    distributed.clear_worker_cache()
    assert distributed.worker_cache() == []


def test_output_folder_rules(registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", files=2, rows=300, row_group=100)
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    out = predictor.predict_batch(tmp_path / "data", output_path=tmp_path / "out", batch_size=100, dask="sync")
    assert len(list(out.iterdir())) == 6
    # an earlier prediction output is replaced as a whole (no stale parts)
    predictor.predict_batch(tmp_path / "data", output_path=out, batch_size=300, dask="sync")
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    np.testing.assert_array_equal(read_output(out)["probability"].to_numpy(), predictor.predict(data))

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="other files"):
        predictor.predict_batch(tmp_path / "data", output_path=mine, dask="sync")
    assert (mine / "notes.txt").read_text() == "keep"
    with pytest.raises(OutputExistsError, match="overlaps the input"):
        predictor.predict_batch(tmp_path / "data", output_path=tmp_path / "data" / "out", dask="sync")
    with pytest.raises(OutputExistsError, match="overlaps the input"):
        predictor.predict_batch(str(out / "*.parquet"), output_path=out, dask="sync")
    with pytest.raises(PredictorError, match="CSV"):
        predictor.predict_batch(tmp_path / "data", output_path=tmp_path / "out.csv", dask="sync")
    assert leftovers(tmp_path) == []


def test_refusals(registry: CustomModelRegistry, xgb_uri: str, tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", files=1, rows=100, row_group=100)
    predictor = ModelPredictor(registry).load_model(xgb_uri)
    frame = dd.from_pandas(data, npartitions=2)
    with pytest.raises(InvalidArgumentError, match="dask=False"):
        predictor.predict_batch(frame, dask=False)
    with pytest.raises(InvalidArgumentError, match="lazy result"):
        predictor.predict_batch(frame, dask="tcp://127.0.0.1:1")
    with pytest.raises(InvalidArgumentError, match="dask= takes"):
        predictor.predict_batch(tmp_path / "data", dask=3)
    with pytest.raises(PredictorError, match="need output_path"):
        predictor.predict_batch(tmp_path / "data", id_columns=["game_id"], dask=True)
    with pytest.raises(PredictorError, match=r"not a \.parquet"):
        data.to_csv(tmp_path / "data.csv", index=False)
        predictor.predict_batch(tmp_path / "data.csv", dask=True)
    with pytest.raises(PredictorError, match="holds no Parquet files"):
        (tmp_path / "empty").mkdir()
        predictor.predict_batch(tmp_path / "empty", dask=True)
    data.iloc[:0].to_parquet(tmp_path / "none.parquet", index=False)
    with pytest.raises(PredictorError, match="no rows"):
        predictor.predict_batch(tmp_path / "none.parquet", dask=True)
    memory = MemoryRegistry()
    _, artifact, model = trained()
    in_memory = ModelPredictor(memory).load_model(memory.save_model(model, "nba", preprocessor_artifact=artifact))
    with pytest.raises(PredictorError, match="CustomModelRegistry"):
        in_memory.predict_batch(tmp_path / "data", dask=True)
    assert (
        main(["--root", str(registry.root), "predict", "nba/1", "a", "b", "--workers", "2", "--dask-scheduler", "x"])
        == 2
    )


def test_dask_client_needs_a_reachable_scheduler() -> None:
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(PredictorError, match="cannot reach the Dask scheduler"),
        distributed.dask_client("tcp://127.0.0.1:9"),
    ):
        pass


def test_cli_json_mentions_dask_output(
    tmp_path: Path, registry: CustomModelRegistry, xgb_uri: str, capsys: Any
) -> None:
    write_dataset(tmp_path / "data", files=1, rows=50, row_group=50)
    argv = ["--root", str(registry.root), "--json", "predict", "nba/1", str(tmp_path / "data"), str(tmp_path / "o")]
    assert main([*argv, "--dask-scheduler", "synchronous", "--progress"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["output"] == str(tmp_path / "o")  # Dask's progress bar is on stderr
    assert "100%" in printed.err
