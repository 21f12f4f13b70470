"""Registries for the model browser's tests: a small one with stages, aliases, metrics
across versions and user-written values that would run script if they were not escaped;
and one with real-world names (long unbroken text, long metric names, many metrics, more
versions than a page of the table) for layout, paging and chart checks."""

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


#: the layout model: every name and text as long as a real registry has them
LONG_MODEL = "customer-lifetime-value_gradient-boosted-ensemble_with-calibrated-probabilities_and-monotone-constraints"
LONG_WORD = "x" * 20 + "".join(f"-segment{i:03d}" for i in range(40)).replace("-", "")  # ~ 500 chars, no break
LONG_DESCRIPTION = f"Weekly retrained model. {LONG_WORD} End of description."
LONG_METRIC = "validation_mean_absolute_percentage_error_over_all_rolling_forecast_origins_weighted_by_revenue"
#: realistic metric names, in the alphabetical order that used to hide the important ones
LAYOUT_METRICS = (
    "epoch",
    "learning_rate",
    "n_estimators_used",
    "train_log_loss",
    "val_average_precision_macro",
    "val_roc_auc_ovr_weighted",
    "val_log_loss",
    LONG_METRIC,
)
LAYOUT_VERSIONS = 130
LAYOUT_PRODUCTION = 100
LONG_TAG = ("feature_store_snapshot", "s3://bucket/" + "a" * 180 + "/snapshot.parquet")
LONG_PARAM = ("feature_columns_selected_after_recursive_elimination", ",".join(f"feature_{i}" for i in range(60)))
LONG_COLUMN = "days_since_first_purchase_in_any_channel_excluding_returns_and_exchanges"


def layout_metrics(version: int) -> dict[str, float]:
    """The metrics saved with each version of the layout model (unrounded, as real ones are)."""
    return {
        "epoch": version,
        "learning_rate": 0.1 / (1 + version / 50),
        "n_estimators_used": 100 + version * 3,
        "train_log_loss": 0.5 / (1 + version / 7) + 0.0123456789,
        "val_average_precision_macro": 0.6 + 0.3 * version / (version + 40),
        "val_roc_auc_ovr_weighted": 0.7 + 0.25 * version / (version + 30) + (0.0000001 * version),
        "val_log_loss": 0.6 / (1 + version / 9) + 0.02,
        LONG_METRIC: 12.5 + 1000 / (version + 3),
    }


def build_layout_registry(root: Path, versions: int = LAYOUT_VERSIONS) -> CustomModelRegistry:
    """One model with a long name and description, eight realistically named metrics (one
    very long), long tags and parameters, ``versions`` versions (v1 has no stage, v100 is
    Production); plus the small demo models, so lists have neighbours."""
    registry = build_demo_registry(root)
    frame = pd.DataFrame({LONG_COLUMN: [1.0, 2.0], "region": ["north", "south"]})
    for version in range(1, versions + 1):
        registry.save_model(
            {"weights": [version, 1, 2]},
            LONG_MODEL,
            input_example=frame if version == versions else None,
            metrics=layout_metrics(version),
            params={LONG_PARAM[0]: LONG_PARAM[1], "max_depth": 6},
            tags={"team": "growth-analytics", LONG_TAG[0]: LONG_TAG[1], "batch": str(version % 3)},
            description=LONG_DESCRIPTION if version % 10 == 0 else f"retrain {version}",
        )
    registry.set_description(LONG_MODEL, LONG_DESCRIPTION)
    registry.transition_model_stage(f"{LONG_MODEL}/{min(LAYOUT_PRODUCTION, versions)}", "Production")
    registry.transition_model_stage(f"{LONG_MODEL}/{versions}", "Staging")
    registry.set_alias(LONG_MODEL, "champion_of_the_quarterly_business_review", min(LAYOUT_PRODUCTION, versions))
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
        assert ready.wait(120), "the server did not start"  # a hang guard, not a speed test
        yield started[0]
    finally:
        if started:
            started[0].shutdown()
        thread.join(120)
        assert not thread.is_alive(), "the server thread did not stop"
