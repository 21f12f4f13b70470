"""The scripts in ``examples/`` run, as a newcomer would run them, so they cannot rot.

Each runs in a fresh process from an empty working directory, with its registry root (or
work folder) in ``tmp_path``; the checks look at what it printed and what it left on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import PYTHON

from fsregistry import CustomModelRegistry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: each example is meant to finish well within a minute; the limit leaves room for a busy machine
TIMEOUT_S = 240


def run_example(name: str, *args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FSREGISTRY_ROOT")}
    started = time.monotonic()
    done = subprocess.run(
        [PYTHON, str(EXAMPLES / name), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, f"{name} failed after {time.monotonic() - started:.0f} s:\n{done.stderr}"
    return done.stdout


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def test_quickstart(tmp_path: Path, workdir: Path) -> None:
    root, predictions = tmp_path / "registry", tmp_path / "predictions.csv"
    out = run_example("quickstart.py", str(root), "--predictions", str(predictions), cwd=workdir)
    assert "saved models:/nba_win_predictor/1" in out
    assert "promoted to Production" in out
    registry = CustomModelRegistry(root, create=False)
    production = registry.get_model_version("models:/nba_win_predictor/Production")
    assert production["flavor"] == "xgboost" and production["has_preprocessor"]
    assert {"accuracy", "auc", "log_loss"} <= set(production["metadata"]["metrics"])
    assert production["signature"] is not None
    written = pd.read_csv(predictions, dtype={"game_id": str})
    assert written.columns[0] == "game_id" and len(written) == 600
    assert written["game_id"].str.startswith("00223").all()
    assert written.iloc[:, 1].between(0, 1).all()
    assert list(workdir.iterdir()) == []  # nothing dropped into the working directory


def test_quickstart_without_arguments_uses_a_temporary_folder(workdir: Path) -> None:
    out = run_example("quickstart.py", cwd=workdir)
    root = Path(out.split("registry: ", 1)[1].splitlines()[0])
    try:
        assert root.name == "registry" and (root.parent / "predictions.csv").exists()
        assert list(workdir.iterdir()) == []
        hint = out.split("\ntry: ", 1)[1].splitlines()[0].split()  # the last hint works as printed
        listed = subprocess.run(hint, cwd=workdir, capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0 and listed.stdout.startswith("VERSION"), listed.stderr
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


def test_multi_flavor_tour(tmp_path: Path, workdir: Path) -> None:
    out = run_example("multi_flavor_tour.py", str(tmp_path / "registry"), cwd=workdir)
    registry = CustomModelRegistry(tmp_path / "registry", create=False)
    flavors = {m["name"]: registry.get_model_version(f"{m['name']}/1")["flavor"] for m in registry.list_models()}
    assert flavors == {
        "tour_scikit_learn": "sklearn",
        "tour_xgboost": "xgboost",
        "tour_lightgbm": "lightgbm",
        "tour_catboost": "catboost",
        "tour_pytorch": "torch",
    }
    assert out.count("predictions identical") == 5
    assert list(workdir.iterdir()) == []  # e.g. no catboost_info/


def test_airgapped_handover(tmp_path: Path, workdir: Path) -> None:
    out = run_example("airgapped_handover.py", str(tmp_path / "boxes"), cwd=workdir)
    assert "identical churn probabilities" in out
    assert "again: present" in out
    serving = CustomModelRegistry(tmp_path / "boxes" / "serving" / "registry", create=False)
    info = serving.get_model_version("models:/churn/Production")
    assert info["source"]["original_stage"] == "Production"
    assert info["source"]["imported_from"].endswith("handover.tar.gz")
    assert list(workdir.iterdir()) == []
