"""Air-gapped hand-over: move a Production model from one box to another as one file.

    python examples/airgapped_handover.py [WORKDIR]

Two registry roots stand for two machines that share no network:

* the **training box** trains a model (scikit-learn preprocessing + gradient boosting),
  promotes it to Production, and exports that version to a single bundle file;
* the file is carried across (here: copied to the other box's inbox folder);
* the **serving box** imports the bundle - every file's SHA-256 is verified before anything
  is published - promotes it itself (stages and aliases are the receiving box's decision,
  so they are not carried over, only recorded), and predicts.

Both boxes predict the same customers and the script checks the predictions are identical.
The same steps with the command-line interface::

    fsregistry --root training  export models:/churn/Production handover.tar.gz
    fsregistry --root serving   import handover.tar.gz
    fsregistry --root serving   stage churn/1 Production
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from fsregistry import CustomModelRegistry, ModelPredictor

MODEL_NAME = "churn"
NUMERIC = ["tenure_months", "monthly_spend", "support_calls"]
CATEGORICAL = ["plan", "region"]


def customers(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Customer records and whether each one left."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "customer_id": [f"C{seed}{i:05d}" for i in range(n)],
            "tenure_months": rng.integers(1, 72, n),
            "monthly_spend": rng.gamma(3.0, 20.0, n).round(2),
            "support_calls": rng.poisson(1.5, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "region": rng.choice(["north", "south", "east", "west"], n),
        }
    )
    risk = 0.08 * X["support_calls"] - 0.03 * X["tenure_months"] + (X["plan"] == "basic") * 0.8
    churned = pd.Series((risk + rng.normal(0, 0.6, n) > -0.4).astype(int), name="churned")
    return X, churned


def training_box(root: Path, outbox: Path) -> tuple[Path, np.ndarray]:
    """Train, promote, export.  Returns the bundle and the training box's own predictions."""
    registry = CustomModelRegistry(root)
    X, y = customers(2000, seed=1)
    features = NUMERIC + CATEGORICAL
    pre = ColumnTransformer(
        [("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)]
    ).fit(X[features])
    model = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(pre.transform(X[features]), y)
    uri = registry.save_model(
        model,
        MODEL_NAME,
        preprocessor_artifact={"preprocessor": pre},
        input_example=X[features].head(5),
        metadata={"train_rows": len(X)},
        tags={"framework": "scikit-learn"},
    )
    registry.transition_model_stage(uri, "Production")
    bundle = registry.export_model(f"models:/{MODEL_NAME}/Production", outbox / "handover.tar.gz")
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    print(
        f"[training box] saved {uri}, promoted it, exported {bundle.name} "
        f"({bundle.stat().st_size / 1024:.0f} KiB, sha256 {digest[:16]}...)"
    )
    return bundle, predict(registry, f"models:/{MODEL_NAME}/Production")


def serving_box(root: Path, bundle: Path) -> np.ndarray:
    """Import, promote, predict.  Returns the serving box's predictions."""
    registry = CustomModelRegistry(root)
    [imported] = registry.import_model(bundle)
    info = registry.get_model_version(imported.uri)
    source = info["source"]
    print(
        f"[serving box] imported {imported.uri} (run {imported.run_id[:8]}..., created {info['created_at'][:19]}); "
        f"on the training box it was version {source['original_version']} in {source['original_stage']}; "
        f"here its stage is {info['stage']}"
    )
    registry.transition_model_stage(imported.uri, "Production")
    [again] = registry.import_model(bundle)
    print(f"[serving box] importing the same bundle again: {again.status}, nothing written")
    return predict(registry, f"models:/{MODEL_NAME}/Production")


def predict(registry: CustomModelRegistry, uri: str) -> np.ndarray:
    """Churn probabilities for a fixed set of new customers."""
    new_customers, _ = customers(500, seed=7)
    return ModelPredictor(registry).load_model(uri).predict(new_customers, return_probabilities=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    workdir = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="fsregistry-handover-"))
    outbox, inbox = workdir / "training" / "outbox", workdir / "serving" / "inbox"
    outbox.mkdir(parents=True, exist_ok=True)
    inbox.mkdir(parents=True, exist_ok=True)

    bundle, trained = training_box(workdir / "training" / "registry", outbox)
    carried = Path(shutil.copy2(bundle, inbox / bundle.name))  # the USB stick
    served = serving_box(workdir / "serving" / "registry", carried)

    if not np.array_equal(trained, served):
        raise SystemExit("the serving box predicts differently from the training box")
    print(f"both boxes give identical churn probabilities for {len(served)} new customers (mean {served.mean():.3f})")
    print(f"\nworkdir: {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
