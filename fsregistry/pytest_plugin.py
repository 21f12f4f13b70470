"""pytest plugin (registered through the ``pytest11`` entry point): temporary registries.

Installing fsregistry makes two fixtures available in every test suite, with no import
and no ``conftest.py``:

``model_registry``
    a fresh, empty :class:`~fsregistry.CustomModelRegistry` in the test's ``tmp_path``;
``model_registry_factory``
    a callable that makes more of them (``model_registry_factory("target")``), for tests
    that need two roots, such as an export on one and an import on the other.

Nothing outlives the test: the registry is plain files under ``tmp_path`` and holds no
thread, process or global state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .registry import CustomModelRegistry

RegistryFactory = Callable[..., "CustomModelRegistry"]


@pytest.fixture
def model_registry_factory(tmp_path: Path) -> RegistryFactory:
    """``make(name="registry", **options)``: a new registry at ``tmp_path / name``.

    ``options`` go to :class:`~fsregistry.CustomModelRegistry` (``allow_pickle=``,
    ``verify=``, ``lock_timeout=``).  Calling it twice with one name opens the same root.
    """
    from .registry import CustomModelRegistry

    def make(name: str = "registry", **options: Any) -> CustomModelRegistry:
        return CustomModelRegistry(tmp_path / name, **options)

    return make


@pytest.fixture
def model_registry(model_registry_factory: RegistryFactory) -> CustomModelRegistry:
    """A new, empty registry rooted at ``tmp_path / "registry"``; nothing outlives the test."""
    return model_registry_factory()
