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


# -- object storage: a real S3-compatible server on 127.0.0.1 (tests/helpers/s3_server.py) ----


@pytest.fixture(scope="session")
def s3_server():
    """One moto server per test process, atomic per request; stopped at the end."""
    from s3_server import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch, tmp_path) -> dict[str, str]:
    """The standard AWS variables pointing at the test server, and a private content cache,
    set in this process (and so in the children it starts with :func:`subprocess_env`)."""
    if not s3_server.running:  # a test that stopped it failed before restarting it
        s3_server.start()
    env = {**s3_server.env(), "FSREGISTRY_CACHE_DIR": str(tmp_path / "cache")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def s3_root(s3_server, s3_env) -> str:
    """A root URL in a new, empty bucket of the test server."""
    return f"s3://{s3_server.new_bucket()}/registry"


@pytest.fixture(params=["local", "s3"])
def backend_root(request, tmp_path) -> str:
    """A new registry root on each backend: a folder, then a prefix in a bucket.  The
    registry's behaviour tests take this fixture so one suite runs on both."""
    if request.param == "local":
        return str(tmp_path / "registry")
    return str(request.getfixturevalue("s3_root"))
