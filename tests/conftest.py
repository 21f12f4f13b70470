"""Shared test helpers.  The ``model_registry`` fixture itself comes from fsregistry's
own pytest plugin (entry point ``pytest11``), exactly as users get it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from toy_models import Doubler

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture
def doubler() -> Doubler:
    return Doubler()


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child Python processes: same interpreter, ``tests/`` importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


PYTHON = sys.executable
