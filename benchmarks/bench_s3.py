"""Object-storage benchmark: requests per operation, and time against the same client library
moving the same bytes directly.

Run: ``python benchmarks/bench_s3.py [--repeat 5] [--versions 1000] [--quick]``.  Starts the
tests' S3-compatible server on 127.0.0.1 (moto, atomic per request; ``tests/helpers``) and
prints one markdown table, all measured in this run:

* **requests** per operation, counted by the client (every HTTP request, retries included),
  which do not depend on the network: a save (target: the uploads plus at most 3 small
  requests), a load by number, stage or alias with a warm cache (at most 2, no download),
  a resolve (1), and listing a model of ``--versions`` versions (at most 5);
* **time** of a save and of a cold load (empty cache; the client is connected) against uploading
  and downloading the same files with boto3 directly (``upload_file``/``download_file``),
  interleaved run by run; the best of ``--repeat`` counts (target: within 1.3x).  A save also
  serialises the model and a load deserialises and verifies it; both are in the ratio.

Time on a loopback server says little about a real one: the request counts are the
portable result.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
from report import machine, table
from s3_server import S3Server
from toy_models import Doubler

from fsregistry import CustomModelRegistry


def _best(runs: list[float]) -> float:
    return min(runs)


def _requests(registry: CustomModelRegistry, action: Callable[[], Any]) -> int:
    before = registry.store.objects.requests  # type: ignore[union-attr]
    action()
    return int(registry.store.objects.requests - before)  # type: ignore[union-attr]


def _model(megabytes: float) -> Doubler:
    model = Doubler(2.0)
    model.payload = np.random.default_rng(0).random(int(megabytes * 1024 * 1024 / 8))  # type: ignore[attr-defined]
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 repeats, 50 versions")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.versions = 2, 50
    server = S3Server().start()
    work = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    try:
        os.environ.update(server.env())
        os.environ["FSREGISTRY_CACHE_DIR"] = str(work / "cache")
        bucket = server.new_bucket()
        registry = CustomModelRegistry(f"s3://{bucket}/reg")
        rows = _request_rows(registry, args.versions)
        rows += _time_rows(server, bucket, registry, work, args.repeat)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"Machine: {machine(['boto3', 'moto'])}\n")
    print(table(["operation", "measured", "target"], rows))


def _request_rows(registry: CustomModelRegistry, versions: int) -> list[list[str]]:
    registry.save_model(Doubler(), "m", preprocessor_artifact={"a": 1}, stage="Production", aliases=["champion"])
    save = _requests(registry, lambda: registry.save_model(Doubler(), "m", preprocessor_artifact={"a": 1}))
    registry.load_model("m/1")
    by_number = _requests(registry, lambda: registry.load_model("m/1"))
    by_stage = _requests(registry, lambda: registry.load_model("m/Production"))
    by_alias = _requests(registry, lambda: registry.load_model("m@champion"))
    resolve = _requests(registry, lambda: registry.resolve("m/Production"))
    for _ in range(versions):
        registry.save_model(Doubler(), "many")
    listing = _requests(registry, lambda: registry.list_versions("many"))
    assert len(registry.list_versions("many")) == versions
    return [
        ["save (model + preprocessor)", f"2 uploads + {save - 2} small requests", "uploads + <= 3"],
        ["load by number, warm cache", f"{by_number} requests, no download", "<= 2, no download"],
        ["load by stage, warm cache", f"{by_stage} requests, no download", "<= 2, no download"],
        ["load by alias, warm cache", f"{by_alias} requests, no download", "<= 2, no download"],
        ["resolve a stage", f"{resolve} request", "1"],
        [f"list {versions:,} versions", f"{listing} request(s)", "<= 5"],
    ]


def _time_rows(
    server: S3Server, bucket: str, registry: CustomModelRegistry, work: Path, repeat: int
) -> list[list[str]]:
    client = server.client()
    rows = []
    for megabytes in (1, 8, 32):
        model = _model(megabytes)
        saves, uploads, loads, downloads = [], [], [], []
        for i in range(repeat):
            start = time.perf_counter()
            uri = registry.save_model(model, f"size{megabytes}")
            saves.append(time.perf_counter() - start)
            name, version = registry.resolve(uri)
            meta = registry.store.read_meta(name, version)  # type: ignore[union-attr]
            with registry.store.local_folder(name, version, meta) as folder:  # type: ignore[union-attr]
                source = work / f"copy-{megabytes}-{i}"
                shutil.copytree(folder, source)
            start = time.perf_counter()
            for path in sorted(source.iterdir()):
                client.upload_file(str(path), bucket, f"raw/{megabytes}/{i}/{path.name}")
            uploads.append(time.perf_counter() - start)
            shutil.rmtree(work / "cache", ignore_errors=True)  # a cold load: nothing cached
            start = time.perf_counter()
            registry.load_model(uri)
            loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            for path in sorted(source.iterdir()):
                client.download_file(bucket, f"raw/{megabytes}/{i}/{path.name}", str(work / f"down-{path.name}"))
            downloads.append(time.perf_counter() - start)
        size = sum(p.stat().st_size for p in source.iterdir()) / 1e6
        rows.append(
            [
                f"save, {size:.1f} MB",
                f"{_best(saves) * 1000:.0f} ms = {_best(saves) / _best(uploads):.2f}x a direct upload "
                f"({_best(uploads) * 1000:.0f} ms)",
                "<= 1.3x",
            ]
        )
        rows.append(
            [
                f"cold load (verified), {size:.1f} MB",
                f"{_best(loads) * 1000:.0f} ms = {_best(loads) / _best(downloads):.2f}x a direct download "
                f"({_best(downloads) * 1000:.0f} ms)",
                "<= 1.3x",
            ]
        )
    return rows


if __name__ == "__main__":
    main()
