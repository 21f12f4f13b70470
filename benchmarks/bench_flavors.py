"""Save and load through the registry vs the framework's own save/load, per flavor.

    .venv/bin/python benchmarks/bench_flavors.py [--repeat 9] [--dir /path/on/target/disk] [--only xgboost,torch]

For every flavor it builds one realistic model (XGBoost, LightGBM and CatBoost: 500 trees
on 50 features; PyTorch: an MLP of about 10 M parameters in each of the three formats;
scikit-learn: a 100-tree random forest), then times, as medians of ``--repeat`` runs:

* raw save: the framework's own save call to a new file, plus ``fsync`` of that file;
* floor save: the raw save plus the bare system calls the invariants of docs/design.md require
  (see ``floor.py``): not a target, the lowest ratio any registry keeping them could reach;
* flavor save: the flavor's ``save`` alone (no registry), plus ``fsync``: what the flavor costs;
* registry save: ``registry.save_model(model, name)`` (a new version each time: staging,
  model.bin, SHA-256, meta.json, fsyncs, rename, index update under the lock);
* raw load: the framework's own load of that file;
* SHA-256 alone: hashing that file, which a verified load cannot avoid (not a target);
* flavor load: the flavor's ``load`` alone (no registry, no hash check);
* registry load: ``registry.load_model("models:/name/1")`` (hash verified, the default).

and prints a markdown table with the ratios to the raw call (target: at most 1.25x).  The raw
baselines write the formats the flavors write, so "flavor" shows what the flavor adds and
"registry" what the whole save/load path adds (staging, hashing, meta.json, index, fsyncs).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from floor import floor_save, sha256_of
from floor import fsync_path as fsync

from fsregistry import CustomModelRegistry
from fsregistry.flavors import LoadOptions, SavedModel, detect_flavor
from fsregistry.records.environment import package_version

N_ROWS, N_FEATURES, N_TREES = 2000, 50, 500


@dataclass
class Bench:
    """One model and its raw baseline: ``raw_save(path)`` and ``raw_load(path)``."""

    flavor: str
    label: str
    model: Any
    raw_save: Callable[[Path], Any]
    raw_load: Callable[[Path], Any]
    save_kwargs: dict[str, Any]
    load_kwargs: dict[str, Any] | None = None


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = (X[:, :5].sum(axis=1) + rng.normal(size=N_ROWS) > 0).astype(int)
    return X, y


# -- models and their raw baselines ----------------------------------------------------


def xgboost_bench() -> Bench:
    import xgboost as xgb

    X, y = data()
    model = xgb.XGBClassifier(n_estimators=N_TREES, max_depth=6, n_jobs=2).fit(X, y)

    def load(path: Path) -> Any:
        loaded = xgb.XGBClassifier()
        loaded.load_model(path)
        return loaded

    return Bench(
        "xgboost",
        "XGBClassifier, UBJSON",
        model,
        lambda p: model.save_model(p.with_suffix(".ubj")),
        lambda p: load(p.with_suffix(".ubj")),
        {},
    )


def lightgbm_bench() -> Bench:
    import lightgbm as lgb

    X, y = data()
    model = lgb.LGBMClassifier(n_estimators=N_TREES, num_leaves=31, verbose=-1, n_jobs=2).fit(X, y)
    return Bench(
        "lightgbm",
        "LGBMClassifier, text model",
        model,
        lambda p: model.booster_.save_model(p),
        lambda p: lgb.Booster(model_file=p),
        {},
    )


def catboost_bench() -> Bench:
    import catboost as cb

    X, y = data()
    model = cb.CatBoostClassifier(
        iterations=N_TREES, depth=6, verbose=0, allow_writing_files=False, thread_count=2
    ).fit(X, y)

    def load(path: Path) -> Any:
        return cb.CatBoostClassifier().load_model(str(path), format="cbm")

    return Bench(
        "catboost", "CatBoostClassifier, cbm", model, lambda p: model.save_model(str(p), format="cbm"), load, {}
    )


def sklearn_bench() -> Bench:
    import pickle

    import cloudpickle
    from sklearn.ensemble import RandomForestClassifier

    X, y = data()
    model = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0, n_jobs=2).fit(X, y)

    def save(path: Path) -> None:
        with open(path, "wb") as fh:
            cloudpickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def load(path: Path) -> Any:
        with open(path, "rb") as fh:
            return pickle.load(fh)  # our own file, written just above

    return Bench("sklearn", "RandomForest (100 trees), cloudpickle", model, save, load, {})


def make_mlp() -> Any:
    """About 10.5 M parameters."""
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(1024, 2048),
        torch.nn.ReLU(),
        torch.nn.Linear(2048, 2048),
        torch.nn.ReLU(),
        torch.nn.Linear(2048, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024),
        torch.nn.ReLU(),
        torch.nn.Linear(1024, 10),
    )


def torch_benches() -> list[Bench]:
    import torch

    model = make_mlp().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(model)

    def load_state(path: Path) -> Any:
        fresh = make_mlp()
        fresh.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return fresh.eval()

    return [
        Bench(
            "torch",
            "MLP 10.5M params, state_dict",
            model,
            lambda p: torch.save(model.state_dict(), p),
            load_state,
            {"torch_format": "state_dict", "model_factory": make_mlp},
            {"model_factory": make_mlp},
        ),  # defined in __main__ here, so not recorded
        Bench(
            "torch",
            "MLP 10.5M params, whole module",
            model,
            lambda p: torch.save(model, p),
            lambda p: torch.load(p, map_location="cpu", weights_only=False),
            {"torch_format": "module"},
        ),
        Bench(
            "torch",
            "MLP 10.5M params, TorchScript",
            scripted,
            lambda p: torch.jit.save(scripted, str(p)),
            lambda p: torch.jit.load(str(p), map_location="cpu"),
            {},
        ),
    ]


BUILDERS: dict[str, Callable[[], list[Bench]]] = {
    "xgboost": lambda: [xgboost_bench()],
    "lightgbm": lambda: [lightgbm_bench()],
    "catboost": lambda: [catboost_bench()],
    "torch": torch_benches,
    "sklearn": lambda: [sklearn_bench()],
}


# -- timing ----------------------------------------------------------------------------


def interleaved_ms(runs: dict[str, Callable[[int], Any]], repeat: int) -> dict[str, float]:
    """Median wall time of each ``run(i)``, after one untimed warm-up each.

    The runs alternate (raw, registry, raw, registry...) so that noise from other work on
    the machine lands on both sides of a ratio alike.
    """
    for run in runs.values():
        run(-1)
    times: dict[str, list[float]] = {key: [] for key in runs}
    for i in range(repeat):
        for key, run in runs.items():
            start = time.perf_counter()
            run(i)
            times[key].append(time.perf_counter() - start)
    return {key: statistics.median(values) * 1000 for key, values in times.items()}


def measure(bench: Bench, workdir: Path, repeat: int) -> dict[str, Any]:
    """Raw framework calls, the flavor alone (no registry), and the registry, interleaved."""
    raw_dir, flavor_dir, floor_dir = workdir / "raw", workdir / "flavor", workdir / "floor"
    for folder in (raw_dir, flavor_dir, floor_dir):
        folder.mkdir()
    flavor = detect_flavor(bench.model)

    def raw_save(i: int) -> None:
        bench.raw_save(raw_dir / f"model-{i + 1}.bin")
        fsync(next(raw_dir.glob(f"model-{i + 1}.*")))

    def raw_into(path: Path) -> Path:
        bench.raw_save(path)
        written = next(path.parent.glob("model.*"))
        fsync(written)
        return written

    def flavor_save(i: int) -> SavedModel:
        path = flavor_dir / f"model-{i + 1}.bin"
        saved = flavor.save(bench.model, path, **bench.save_kwargs)
        fsync(path)
        return saved

    registry = CustomModelRegistry(workdir / "registry")
    name = bench.flavor
    load_kwargs = bench.load_kwargs or {}
    options = LoadOptions(model_factory=load_kwargs.get("model_factory"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.save/load
        saves = interleaved_ms(
            {
                "raw_save": raw_save,
                "floor_save": lambda i: floor_save(raw_into, floor_dir, i + 2),
                "flavor_save": flavor_save,
                "reg_save": lambda i: registry.save_model(bench.model, name, **bench.save_kwargs),
            },
            repeat,
        )
        saved = flavor_save(0)
        loads = interleaved_ms(
            {
                "raw_load": lambda i: bench.raw_load(raw_dir / "model-1.bin"),
                "sha256": lambda i: sha256_of(next(raw_dir.glob("model-1.*"))),
                "flavor_load": lambda i: flavor.load(flavor_dir / "model-1.bin", saved, options),
                "reg_load": lambda i: registry.load_model(f"models:/{name}/1", **load_kwargs),
                "reg_load_unverified": lambda i: registry.load_model(f"models:/{name}/1", verify=False, **load_kwargs),
            },
            repeat,
        )
    size = next(raw_dir.glob("model-1.*")).stat().st_size
    return {"flavor": bench.flavor, "model": bench.label, "size_mb": size / 1e6, **saves, **loads}


def machine() -> str:
    versions = ", ".join(
        f"{p} {package_version(p)}"
        for p in ("numpy", "scikit-learn", "xgboost", "lightgbm", "catboost", "torch")
        if package_version(p)
    )
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {versions}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: raw time, then everything else as a ratio of it (and in ms).  The floor
    (invariants' bare calls) and the SHA-256 of the file alone are not targets: they show
    the lowest ratio any registry keeping the invariants of docs/design.md could reach here."""
    columns = {
        "save": ("floor_save", "flavor_save", "reg_save"),
        "load": ("sha256", "flavor_load", "reg_load", "reg_load_unverified"),
    }
    lines = [
        "| flavor | model, format | size | raw save | floor save | flavor save | registry save "
        "| raw load | SHA-256 alone | flavor load | registry load | registry load, verify=False |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r["flavor"], r["model"], f"{r['size_mb']:.2f} MB"]
        for op, others in columns.items():
            raw = r[f"raw_{op}"]
            cells.append(f"{raw:.1f} ms")
            for key in others:
                value = r[key]
                cells.append(f"{value:.1f} ms ({value / raw:.2f}x)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per measurement (median reported)")
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary folder)")
    parser.add_argument("--only", default=",".join(BUILDERS), help="comma-separated flavors")
    args = parser.parse_args(argv)
    rows = []
    for flavor in args.only.split(","):
        for bench in BUILDERS[flavor]():
            workdir = Path(tempfile.mkdtemp(prefix="fsregistry-bench-", dir=args.dir))
            try:
                rows.append(measure(bench, workdir, args.repeat))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    print(f"Machine: {machine()}; medians of {args.repeat} runs; saves include fsync.\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
