"""Predictor benchmark: ``ModelPredictor`` against calling the same objects by hand.

Run: ``python benchmarks/bench_predictor.py [--predict-rows 100000] [--batch-rows 5000000]
[--batch-size 100000] [--repeat 7]`` (``--quick`` for a smoke run).  Prints markdown tables,
all measured in this one run, on the seed's pipeline (a fitted ColumnTransformer with
StandardScaler + OneHotEncoder, then XGBoost or scikit-learn's LogisticRegression):

* ``predict`` on an in-memory DataFrame through the predictor (schema enforcement,
  preprocessing, model) vs ``preprocessor.transform`` then ``model.predict_proba`` on the
  same objects (target: ratio <= 1.1);
* ``predict_batch`` streaming a Parquet file vs that raw path looping over the same rows
  already in memory, in slices of the same batch size (target: >= 80 % of its throughput);
* peak memory growth of ``predict_batch`` (Parquet in, Parquet out) for two file sizes,
  each in a fresh process (target: independent of the file size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
from predictor_data import FEATURES, fit_artifact, games, logistic, xgb_classifier
from report import machine, table

from fsregistry import CustomModelRegistry, ModelPredictor

#: the packages whose versions the machine line names
PACKAGES = ("numpy", "pandas", "scikit-learn", "xgboost", "pyarrow")
CHUNK_ROWS = 250_000
ROW_GROUP = 100_000


def best_of(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Fastest of ``repeat`` runs of each function, in seconds.  Runs are interleaved
    (a, b, a, b, ...) so that drift in the machine's speed hits every contender alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def build_registry(root: Path) -> CustomModelRegistry:
    """Two versions of the seed pipeline: XGBoost (version 1) and LogisticRegression (2)."""
    train = games(20_000)
    artifact, transformed = fit_artifact(train)
    registry = CustomModelRegistry(root)
    example = train[FEATURES].head(5)
    xgb = xgb_classifier(transformed, train["home_win"], n_estimators=100, max_depth=6, n_jobs=os.cpu_count())
    registry.save_model(xgb, "nba", preprocessor_artifact=artifact, input_example=example)
    registry.save_model(
        logistic(transformed, train["home_win"]), "nba", preprocessor_artifact=artifact, input_example=example
    )
    return registry


def raw_path(predictor: ModelPredictor) -> Callable[[pd.DataFrame], np.ndarray]:
    """What a user writes by hand: the same fitted objects, no predictor."""
    preprocessor, model = predictor.preprocessor, predictor.model
    return lambda frame: model.predict_proba(preprocessor.transform(frame))[:, 1]


def bench_predict(registry: CustomModelRegistry, rows: int, repeat: int) -> list[list[str]]:
    frame = games(rows, seed=1)  # with the seed's extra columns (game_id, the target)
    out = []
    for version, label in (("nba/1", "XGBoost (100 trees, depth 6)"), ("nba/2", "LogisticRegression")):
        predictor = ModelPredictor(registry).load_model(version)
        raw = raw_path(predictor)
        np.testing.assert_array_equal(predictor.predict(frame), raw(frame))
        raw_s, ours_s = best_of([lambda: raw(frame), lambda: predictor.predict(frame)], repeat)  # noqa: B023
        out.append(
            [
                f"predict, {rows:,} rows, {label}",
                f"{ours_s * 1000:.1f} ms",
                f"{raw_s * 1000:.1f} ms",
                f"{ours_s / raw_s:.3f}x",
                "<= 1.1x",
            ]
        )
    return out


def write_parquet(path: Path, rows: int) -> None:
    """``rows`` games written chunk by chunk (the file never sits in this process's memory)."""
    writer = None
    for seed in range(0, rows, CHUNK_ROWS):
        table = pa.Table.from_pandas(
            games(min(CHUNK_ROWS, rows - seed), seed=seed // CHUNK_ROWS + 100), preserve_index=False
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP)
    assert writer is not None
    writer.close()


def bench_batch(
    registry: CustomModelRegistry, source: Path, rows: int, batch_size: int, repeat: int
) -> list[list[str]]:
    predictor = ModelPredictor(registry).load_model("nba/1")
    raw = raw_path(predictor)
    in_memory = pd.read_parquet(source)

    def raw_loop() -> None:
        for start in range(0, len(in_memory), batch_size):
            raw(in_memory.iloc[start : start + batch_size])

    raw_s, file_s, out_s = best_of(
        [
            raw_loop,
            lambda: predictor.predict_batch(source, batch_size=batch_size),
            lambda: predictor.predict_batch(
                source, batch_size=batch_size, id_columns=["game_id"], output_path=source.with_name("out.parquet")
            ),
        ],
        repeat,
    )
    target = ">= 80%"
    return [
        [
            f"predict_batch, Parquet {rows:,} rows -> array",
            f"{rows / file_s:,.0f} rows/s",
            f"{rows / raw_s:,.0f} rows/s",
            f"{raw_s / file_s:.0%}",
            target,
        ],
        [
            f"predict_batch, Parquet {rows:,} rows -> Parquet + game_id",
            f"{rows / out_s:,.0f} rows/s",
            f"{rows / raw_s:,.0f} rows/s",
            f"{raw_s / out_s:.0%}",
            target,
        ],
    ]


MEMORY_CHILD = """
import json, resource, sys, psutil
from fsregistry import CustomModelRegistry, ModelPredictor

def reset_peak():
    try:
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

predictor = ModelPredictor(CustomModelRegistry(sys.argv[1])).load_model("nba/1")
reset_peak()
before = psutil.Process().memory_info().rss
predictor.predict_batch(sys.argv[2], batch_size=int(sys.argv[3]), output_path=sys.argv[4], id_columns=["game_id"])
print(json.dumps({"before": before, "peak": peak()}))
"""


def peak_growth_mb(registry: CustomModelRegistry, source: Path, batch_size: int) -> float:
    """RSS growth of one ``predict_batch`` over ``source``, in a fresh process."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            MEMORY_CHILD,
            str(registry.root),
            str(source),
            str(batch_size),
            str(source.with_name("mem-out.parquet")),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    usage = json.loads(result.stdout.strip().splitlines()[-1])
    return float(usage["peak"] - usage["before"]) / 2**20


def bench_memory(
    registry: CustomModelRegistry, work: Path, sizes: list[int], batch_sizes: list[int]
) -> list[list[str]]:
    rows = []
    for size in sizes:
        source = work / f"mem-{size}.parquet"
        if not source.exists():
            write_parquet(source, size)
        megabytes = os.path.getsize(source) / 2**20
        label = f"{size:,} rows ({megabytes:.0f} MB file, {_frame_mb(source):.0f} MB as a DataFrame)"
        rows.append([label, *(f"{peak_growth_mb(registry, source, b):.0f} MB" for b in batch_sizes)])
    return rows


def _frame_mb(source: Path) -> float:
    """Size of the whole file loaded as a DataFrame (what predict_batch avoids holding)."""
    handle = pq.ParquetFile(source)
    sample = handle.read_row_group(0).to_pandas()
    return float(sample.memory_usage(deep=True).sum()) / len(sample) * handle.metadata.num_rows / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--predict-rows", type=int, default=100_000)
    parser.add_argument("--batch-rows", type=int, default=5_000_000)
    parser.add_argument("--memory-rows", default="1000000,5000000", help="two (or more) file sizes, comma-separated")
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--memory-batch-sizes", default="10000,100000", help="batch sizes for the memory table")
    parser.add_argument("--repeat", type=int, default=30, help="runs of predict (predict_batch: a tenth, at least 3)")
    parser.add_argument("--parts", default="predict,batch,memory", help="which tables to measure")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that the benchmark runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.predict_rows, args.batch_rows, args.memory_rows, args.batch_size, args.repeat = (
            5_000,
            60_000,
            "30000,60000",
            10_000,
            2,
        )
        args.memory_batch_sizes = "1000,10000"
    memory_sizes = [int(s) for s in args.memory_rows.split(",")]
    memory_batches = [int(s) for s in args.memory_batch_sizes.split(",")]
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-predictor-") as tmp:
        work = Path(tmp)
        registry = build_registry(work / "registry")
        print(f"Machine: {machine(PACKAGES)}\n")
        speed = bench_predict(registry, args.predict_rows, args.repeat) if "predict" in parts else []
        if "batch" in parts:
            source = work / f"mem-{args.batch_rows}.parquet"
            write_parquet(source, args.batch_rows)
            speed += bench_batch(registry, source, args.batch_rows, args.batch_size, max(3, args.repeat // 10))
        if speed:
            print(table(["operation", "ModelPredictor", "raw (transform + predict_proba)", "ratio", "target"], speed))
            print(
                f"\nbatch_size={args.batch_size:,}; raw batch path: the same rows already in memory, sliced the "
                "same way; throughput % = raw time / predictor time.\n"
            )
        if "memory" in parts:
            header = [
                "predict_batch peak RSS growth (Parquet in, Parquet out, fresh process)",
                *(f"batch_size={b:,}" for b in memory_batches),
            ]
            print(table(header, bench_memory(registry, work, memory_sizes, memory_batches)))


if __name__ == "__main__":
    main()
