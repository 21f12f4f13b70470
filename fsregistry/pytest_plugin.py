"""pytest plugin (registered through the ``pytest11`` entry point): the ``model_registry``
fixture, a fresh :class:`~fsregistry.CustomModelRegistry` in the test's ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .registry import CustomModelRegistry


@pytest.fixture
def model_registry(tmp_path: Path) -> CustomModelRegistry:
    """A new, empty registry rooted at ``tmp_path / "registry"``; nothing outlives the test."""
    return CustomModelRegistry(tmp_path / "registry")
