"""Importing fsregistry, and saving or loading a model of one flavor, imports no other
framework: torch, xgboost, lightgbm and catboost are imported only for their own models,
Dask only for Dask scoring, and boto3 only for an ``s3://`` root.

Each check runs in a fresh interpreter, since the test process has imported them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("torch", "xgboost", "lightgbm", "catboost", "dask", "distributed", "boto3", "botocore")


def run_fresh(code: str, cwd: Path) -> dict[str, list[str]]:
    """Run ``code`` in a new interpreter; it must print one JSON object, returned here."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result: dict[str, list[str]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


PRELUDE = """
import json, sys
FRAMEWORKS = {frameworks!r}
def imported():
    return sorted(f for f in FRAMEWORKS if f in sys.modules)
"""


def test_import_and_sklearn_round_trip_import_no_framework(tmp_path: Path) -> None:
    result = run_fresh(
        PRELUDE.format(frameworks=FRAMEWORKS)
        + f"""
import fsregistry
import fsregistry.predict.distributed
after_import = imported()
from fsregistry import CustomModelRegistry
from fsregistry.flavors import detect_flavor
from sklearn.linear_model import LogisticRegression
X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
registry = CustomModelRegistry({str(tmp_path / "registry")!r})
uri = registry.save_model(LogisticRegression().fit(X, y), "clf", input_example=X[:1])
data = registry.load_model(uri)
assert list(data["model"].predict(X)) == y and data["flavor"] == "sklearn"
class Fake: pass
for path in ("xgboost.core", "lightgbm.basic", "catboost.core", "torch.nn.modules.module"):
    Fake.__module__ = path
    detect_flavor(Fake())
print(json.dumps({{"after_import": after_import, "after_round_trip": imported()}}))
""",
        tmp_path,
    )
    assert result == {"after_import": [], "after_round_trip": []}


@pytest.mark.parametrize("framework", ["xgboost", "lightgbm"])
def test_one_framework_model_imports_only_its_framework(framework: str, tmp_path: Path) -> None:
    build = {
        "xgboost": "import xgboost; model = xgboost.XGBRegressor(n_estimators=2).fit(X, y)",
        "lightgbm": "import lightgbm; model = lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(X, y)",
    }[framework]
    result = run_fresh(
        PRELUDE.format(frameworks=FRAMEWORKS)
        + f"""
import numpy as np
from fsregistry import CustomModelRegistry
X = np.arange(40, dtype=float).reshape(20, 2); y = X[:, 0]
{build}
registry = CustomModelRegistry({str(tmp_path / "registry")!r})
registry.load_model(registry.save_model(model, "m"))
print(json.dumps({{"imported": imported()}}))
""",
        tmp_path,
    )
    assert result == {"imported": [framework]}


def test_import_and_the_cli_listing_commands_import_neither_numpy_nor_pandas(tmp_path: Path) -> None:
    """``import fsregistry`` (and so the pytest plugin), ``fsregistry models``, ``versions``
    and ``show`` of a version without a signature or example pay for no data library."""
    heavy = ("numpy", "pandas", "pyarrow", "cloudpickle")
    root = tmp_path / "registry"
    setup = f"""
import json, sys
from fsregistry import CustomModelRegistry
r = CustomModelRegistry({str(root)!r})
r.save_model({{"weights": [1, 2]}}, "m", metadata={{"auc": 0.9}})
print(json.dumps({{}}))
"""
    run_fresh(setup, tmp_path)
    code = f"""
import json, sys
import fsregistry
after_import = sorted(m for m in {heavy!r} if m in sys.modules)
from fsregistry.cli import main
for argv in (["models"], ["versions", "m"], ["show", "m/1"]):
    assert main(["--root", {str(root)!r}, *argv]) == 0
after_cli = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"after_import": after_import, "after_cli": after_cli}}))
"""
    result = run_fresh(code, tmp_path)
    assert result == {"after_import": [], "after_cli": []}
