"""Dask benchmark: ``predict_batch`` in one process against the same job on a Dask cluster.

Run: ``python benchmarks/bench_dask.py [--rows 1000000] [--row-group 100000] [--repeat 3]``
(``--rows 5000000`` for the issue's size, ``--quick`` for a smoke run).  Prints one markdown
table, all measured in this one run, on the seed's pipeline (a fitted ColumnTransformer,
then XGBoost with 100 trees of depth 6), Parquet in (one file, row groups of
``--row-group`` rows) and Parquet out (``game_id`` + ``probability``):

* rows/s of the in-process ``predict_batch`` (``batch_size`` = one row group), of Dask with
  one worker of two threads, and of Dask with two workers of one thread, with the ratio to
  the in-process rate (target: >= 85 %).  Every setup uses the same cores: the in-process
  run lets XGBoost use all of them; Dask workers run one task per thread, each with one
  framework thread (the nanny sets ``OMP_NUM_THREADS=1``);
* the median time of one partition's task (read + score) per setup, with a third Dask
  setup for reference: one worker of one thread, on one core (target: the same with one
  worker and with N workers of one thread: what lets a job scale out; a worker of two
  threads runs two tasks that share its interpreter's lock, so its tasks take longer);
* the per-worker load cost, once per worker process (``fsregistry.predict.distributed.preload``
  on fresh workers: framework imports, reading and verifying the files), and what a second
  load costs (the per-process cache).

All clusters are up for the whole run and the setups' runs are interleaved, so
that a change in the machine's load hits them alike; the best of ``--repeat`` runs counts.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dask.distributed import Client, LocalCluster, get_task_stream

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
from predictor_data import FEATURES, fit_artifact, games, xgb_classifier
from report import machine, table

from fsregistry import CustomModelRegistry, ModelPredictor
from fsregistry.predict.distributed import preload

#: the packages whose versions the machine line names
PACKAGES = ("numpy", "pandas", "scikit-learn", "xgboost", "pyarrow", "dask", "distributed")

CHUNK_ROWS = 250_000
TARGET = ">= 85%"


def build_registry(root: Path) -> CustomModelRegistry:
    """The seed pipeline with XGBoost (100 trees, depth 6), its threads left to the process."""
    train = games(20_000)
    artifact, transformed = fit_artifact(train)
    registry = CustomModelRegistry(root)
    model = xgb_classifier(transformed, train["home_win"], n_estimators=100, max_depth=6, n_jobs=None)
    registry.save_model(model, "nba", preprocessor_artifact=artifact, input_example=train[FEATURES].head(5))
    return registry


def write_parquet(path: Path, rows: int, row_group: int) -> None:
    """``rows`` games, written chunk by chunk, in row groups of ``row_group`` rows."""
    writer = None
    for start in range(0, rows, CHUNK_ROWS):
        frame = games(min(CHUNK_ROWS, rows - start), seed=start // CHUNK_ROWS + 100)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=row_group)
    assert writer is not None
    writer.close()


def best_of(runs: list[Callable[[], object]], repeat: int) -> list[float]:
    """Fastest of ``repeat`` runs of each, in seconds.  Runs are interleaved (a, b, c, a,
    b, c, ...) so that drift in the machine's load hits every setup alike."""
    spent: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, times in zip(runs, spent, strict=True):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return [min(times) for times in spent]


def partition_times(stream: list[dict[str, Any]]) -> list[float]:
    """Compute time of every read-and-score task in a Dask task stream, in seconds."""
    out = []
    for task in stream:
        key = task["key"][0] if isinstance(task["key"], tuple) else task["key"]
        if str(key).startswith("fsregistry-score"):
            out += [s["stop"] - s["start"] for s in task["startstops"] if s["action"] == "compute"]
    return out


class Setup:
    """One way of running the job: in this process (``client`` None) or on a cluster."""

    def __init__(self, label: str, predictor: ModelPredictor, source: Path, out: Path, row_group: int) -> None:
        self.label, self.predictor, self.source, self.out, self.row_group = label, predictor, source, out, row_group
        self.client: Any = None
        self.load: dict[str, float] = {}
        self.load_again: dict[str, float] = {}
        self.partition = float("nan")

    def start(self, stack: ExitStack, workers: int, threads: int) -> None:
        """A fresh cluster; the model's load cost measured on its fresh workers."""
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers,
                threads_per_worker=threads,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        )
        self.client = stack.enter_context(Client(cluster, set_as_default=False))
        self.load = preload(self.client, self.predictor)
        self.load_again = preload(self.client, self.predictor)

    def run(self) -> object:
        dask = {"dask": self.client} if self.client is not None else {}
        return self.predictor.predict_batch(
            self.source, batch_size=self.row_group, output_path=self.out, id_columns=["game_id"], **dask
        )

    def measure_partitions(self) -> None:
        with get_task_stream(self.client) as stream:
            self.run()
        self.partition = statistics.median(partition_times(stream.data))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the data set (the issue's: 5000000)")
    parser.add_argument("--row-group", type=int, default=100_000, help="rows per row group = per partition")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per setup (the best counts)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that the benchmark runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.row_group, args.repeat = 40_000, 10_000, 1
    cores = os.cpu_count() or 2
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        registry = build_registry(work / "registry")
        source = work / "games.parquet"
        write_parquet(source, args.rows, args.row_group)
        predictor = ModelPredictor(registry).load_model("nba/1")
        local = Setup(
            f"in-process predict_batch (XGBoost on {cores} threads)",
            predictor,
            source,
            work / "in.parquet",
            args.row_group,
        )
        one = Setup(f"Dask, 1 worker x {cores} threads", predictor, source, work / "one", args.row_group)
        many = Setup(f"Dask, {cores} workers x 1 thread", predictor, source, work / "many", args.row_group)
        single = Setup("Dask, 1 worker x 1 thread (one core: reference)", predictor, source, work / "1", args.row_group)
        one.start(stack, 1, cores)
        many.start(stack, cores, 1)
        single.start(stack, 1, 1)
        dask_setups = [one, many, single]
        setups = [local, *dask_setups]
        for setup in setups:  # first runs: Dask's own imports and buffers in the workers
            setup.run()
        seconds = best_of([setup.run for setup in setups], args.repeat)
        for setup in dask_setups:
            setup.measure_partitions()

        expected = pd.read_parquet(local.out)
        for setup in dask_setups:
            got = pd.read_parquet(setup.out)
            assert np.array_equal(got["game_id"], expected["game_id"])
            assert np.array_equal(got["probability"].to_numpy(), expected["probability"].to_numpy())

        rows = [[local.label, f"{args.rows / seconds[0]:,.0f}", "100%", "-", "-"]]
        for setup, spent in zip(dask_setups, seconds[1:], strict=True):
            rows.append(
                [
                    setup.label,
                    f"{args.rows / spent:,.0f}",
                    f"{seconds[0] / spent:.0%}" + (f" (target {TARGET})" if setup is not single else ""),
                    f"{setup.partition * 1000:.0f} ms",
                    f"{statistics.mean(setup.load.values()):.2f} s "
                    f"(cached: {statistics.mean(setup.load_again.values()) * 1e6:.0f} us)",
                ]
            )
        print(f"Machine: {machine(PACKAGES)}\n")
        print(
            table(
                [
                    f"{args.rows:,} rows, Parquet in -> Parquet out (game_id + probability)",
                    "rows/s",
                    "vs in-process",
                    "one partition (median)",
                    "model load per worker",
                ],
                rows,
            )
        )
        print(
            f"\nPartitions: one row group of {args.row_group:,} rows ({-(-args.rows // args.row_group)} partitions); "
            f"best of {args.repeat} interleaved runs after one warm-up run each; outputs checked equal to the "
            "in-process output."
        )


if __name__ == "__main__":
    main()
