"""Child-process workloads for the multi-process and crash tests.

Run as ``python workers.py COMMAND ROOT NAME COUNT`` with ``tests/`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import random
import sys

import numpy as np
from toy_models import Doubler

from fsregistry import CustomModelRegistry


def save(root: str, name: str, count: int) -> None:
    """Save ``count`` versions, printing each URI."""
    registry = CustomModelRegistry(root)
    for i in range(count):
        print(registry.save_model(Doubler(float(i)), name, metadata={"i": i}), flush=True)


def churn(root: str, name: str, count: int) -> None:
    """Save models with a sizeable payload, promote and alias them, forever or ``count`` times.

    Prints ``saving I`` (flushed) as each save begins, so that a test can kill it inside
    the save loop by what it has done, not by how long it has run (issue 16, item 11)."""
    registry = CustomModelRegistry(root)
    rng = random.Random()
    i = 0
    while count <= 0 or i < count:
        model = Doubler(float(i))
        model.payload = np.random.default_rng(i).random(200_000)  # type: ignore[attr-defined]
        print(f"saving {i}", flush=True)
        uri = registry.save_model(model, name, preprocessor_artifact={"i": i}, metadata={"i": i})
        version = uri.rsplit("/", 1)[1]
        roll = rng.random()
        if roll < 0.3:
            registry.transition_model_stage(f"{name}/{version}", rng.choice(["Staging", "Production", "Archived"]))
        elif roll < 0.5:
            registry.set_alias(name, rng.choice(["champion", "shadow"]), int(version))
        i += 1


def promote(root: str, name: str, version: int) -> None:
    """Promote ``name/version`` to Production ten times (other processes promote others)."""
    registry = CustomModelRegistry(root, create=False)
    for _ in range(10):
        registry.transition_model_stage(f"{name}/{version}", "Production")
    print("done", flush=True)


def save_or_refused(root: str, name: str, count: int) -> None:
    """Save ``count`` versions with payloads of mixed sizes, printing the URI of each save
    that succeeded and ``refused`` for each that a repair running meanwhile made fail."""
    from fsregistry import ObjectStoreError

    registry = CustomModelRegistry(root)
    rng = np.random.default_rng()
    for i in range(count):
        model = Doubler(float(i))
        model.payload = rng.random(int(rng.choice([10, 40_000])))  # type: ignore[attr-defined]
        try:
            print(registry.save_model(model, name, metadata={"i": i}), flush=True)
        except ObjectStoreError:
            print("refused", flush=True)


def repair(root: str, stop_file: str, count: int) -> None:
    """``check(repair=True, older_than=0)`` again and again until ``stop_file`` exists:
    a repair that takes everything unreferenced at once, racing live writers."""
    from pathlib import Path

    registry = CustomModelRegistry(root)
    while not Path(stop_file).exists():
        registry.check(repair=True, older_than=0)
    print("done", flush=True)


if __name__ == "__main__":
    command, root, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    commands = {"save": save, "churn": churn, "promote": promote, "save_or_refused": save_or_refused, "repair": repair}
    commands[command](root, name, count)
