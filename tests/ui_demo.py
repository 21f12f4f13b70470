"""A small registry for the model browser's tests: stages, aliases, metrics across
versions, and user-written values that would run script if they were not escaped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from fsregistry import CustomModelRegistry
from fsregistry.ui import UIServer, serve

#: the tag value the issue names: it must show as text
HOSTILE_TAG = "<script>alert(1)</script>"
#: would set window.__xss if any of these ran
HOSTILE_SCRIPT = "<script>window.__xss=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__xss=1">'
HOSTILE_METRIC = "<b>f1</b>"
HOSTILE_COLUMN = 'spend"><script>window.__xss=1</script>'
MODEL_DESCRIPTION = 'Predicts churn <b>bold</b> & "quoted"'

CHURN_ACCURACY = {1: 0.81, 2: 0.84, 3: 0.86}
PRICE_RMSE = {1: 3.2, 2: 2.9}


def build_demo_registry(root: Path) -> CustomModelRegistry:
    """``churn`` (v1 Archived, v2 Production @champion, v3 Staging @challenger with the
    hostile tags) and ``price-forecast`` (two versions, no stage)."""
    from sklearn.linear_model import LogisticRegression, Ridge

    registry = CustomModelRegistry(root)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(18, 80, 40), "spend": rng.random(40)})
    target = (frame["spend"] > 0.5).astype(int)
    for version, accuracy in CHURN_ACCURACY.items():
        tags = {"team": "growth"}
        description = f"C={version}"
        if version == 3:
            tags.update(note=HOSTILE_TAG, xss=HOSTILE_SCRIPT)
            description = HOSTILE_IMG
        registry.save_model(
            LogisticRegression(C=float(version)).fit(frame, target),
            "churn",
            input_example=frame.head(3),
            metadata={"accuracy": accuracy, "fold": version},
            metrics={HOSTILE_METRIC: accuracy - 0.1},
            tags=tags,
            description=description,
        )
    registry.set_description("churn", MODEL_DESCRIPTION)
    registry.transition_model_stage("churn/1", "Production")
    registry.transition_model_stage("churn/2", "Production")  # archives v1
    registry.transition_model_stage("churn/3", "Staging")
    registry.set_alias("churn", "champion", 2)
    registry.set_alias("churn", "challenger", 3)

    odd = frame.rename(columns={"spend": HOSTILE_COLUMN})
    for version, rmse in PRICE_RMSE.items():
        registry.save_model(
            Ridge(alpha=float(version)).fit(odd, frame["spend"]),
            "price-forecast",
            input_example=odd.head(2),
            metrics={"rmse": rmse},
            tags={"team": "pricing"},
        )
    return registry


@contextmanager
def running(registry: CustomModelRegistry) -> Iterator[UIServer]:
    """``serve`` on a free loopback port in a thread; shut down and joined on exit."""
    started: list[UIServer] = []
    ready = threading.Event()

    def on_ready(server: UIServer) -> None:
        started.append(server)
        ready.set()

    thread = threading.Thread(target=serve, args=(registry,), kwargs={"port": 0, "ready": on_ready}, daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the server did not start"
        yield started[0]
    finally:
        if started:
            started[0].shutdown()
        thread.join(10)
        assert not thread.is_alive(), "the server thread did not stop"
