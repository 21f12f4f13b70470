"""The ``model_registry`` fixture, as users get it: through the ``pytest11`` entry point,
in a pytest run in a fresh directory with no conftest and no import of ours."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from conftest import PYTHON

from fsregistry import CustomModelRegistry

USER_TESTS = textwrap.dedent("""
    import numpy as np
    from sklearn.linear_model import LinearRegression

    from fsregistry import CustomModelRegistry


    def test_a_fresh_registry_in_tmp_path(model_registry, tmp_path):
        assert isinstance(model_registry, CustomModelRegistry)
        assert model_registry.root == tmp_path / "registry"
        assert model_registry.list_models() == []
        X = np.arange(20.0).reshape(10, 2)
        uri = model_registry.save_model(LinearRegression().fit(X, X.sum(axis=1)), "demo")
        assert uri == "models:/demo/1"
        loaded = model_registry.load_model(uri)["model"]
        assert np.allclose(loaded.predict(X), X.sum(axis=1))


    def test_each_test_gets_its_own(model_registry):
        assert model_registry.list_models() == []


    def test_factory_makes_independent_roots(model_registry_factory, tmp_path):
        source, target = model_registry_factory("source"), model_registry_factory("target", allow_pickle=False)
        assert source.root == tmp_path / "source" and target.root == tmp_path / "target"
        assert target.allow_pickle is False
        X = np.arange(20.0).reshape(10, 2)
        source.save_model(LinearRegression().fit(X, X[:, 0]), "demo")
        assert target.list_models() == []
""")


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in ``directory`` with an environment that points at none of our code."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    }
    return subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_fixture_loads_through_the_entry_point_in_a_fresh_directory(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_user.py").write_text(USER_TESTS)
    done = run_pytest(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_without_the_plugin_the_fixture_does_not_exist(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_user.py").write_text(USER_TESTS)
    done = run_pytest(project, "-p", "no:fsregistry")
    assert done.returncode != 0
    assert "fixture 'model_registry' not found" in done.stdout


def test_the_fixture_in_our_own_suite(model_registry: CustomModelRegistry, tmp_path: Path) -> None:
    assert model_registry.root == tmp_path / "registry"
    assert (tmp_path / "registry" / ".fsregistry.json").exists()
    assert model_registry.list_models() == []
