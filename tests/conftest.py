"""Shared test helpers.  The ``model_registry`` fixture itself comes from fsregistry's
own pytest plugin (entry point ``pytest11``), exactly as users get it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from toy_models import Doubler

TESTS_DIR = Path(__file__).resolve().parent
#: modules the tests share (toy models, fault helpers, worker scripts): on ``sys.path``
#: through pytest's ``pythonpath`` setting (pyproject.toml), and in every child process
#: through :func:`subprocess_env`, since pickles that tests save refer to them by name
HELPERS_DIR = TESTS_DIR / "helpers"


@pytest.fixture
def doubler() -> Doubler:
    return Doubler()


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child Python processes: same interpreter, the test helpers importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HELPERS_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


PYTHON = sys.executable
