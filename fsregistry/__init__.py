"""fsregistry: a self-contained, file-system model registry.

>>> from fsregistry import CustomModelRegistry, ModelPredictor
>>> registry = CustomModelRegistry("/data/registry")        # doctest: +SKIP

Importing the package imports no machine-learning framework; each is imported only when a
model of its flavor is saved or loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
from .errors import (
    BundleError,
    BundleNotFoundError,
    ClassOrderWarning,
    ConcurrentWriteError,
    CorruptRecordError,
    CorruptRegistryError,
    EnvironmentMismatchWarning,
    FlavorError,
    FormatVersionError,
    ImportConflictError,
    IntegrityError,
    InvalidArgumentError,
    InvalidIdentifierError,
    InvalidMetadataError,
    InvalidNameError,
    InvalidStageError,
    LockTimeoutError,
    MissingDependencyError,
    ModelExistsError,
    ModelFactoryWarning,
    ModelNotFoundError,
    ObjectStoreError,
    OutputExistsError,
    PickleRefusedError,
    PredictorError,
    ProtectedVersionError,
    RegistryError,
    RegistryPermissionError,
    SchemaError,
    UnexpectedArgumentError,
    UnsafeHostError,
    UnsafeLinkError,
    VersionNotFoundError,
)

if TYPE_CHECKING:
    from .base import BaseModelRegistry
    from .flavors import register_flavor, unregister_flavor
    from .flavors.pytorch import register_model_factory, unregister_model_factory
    from .identifiers import ModelRef, parse_identifier
    from .names import StageName
    from .predict.predictor import ModelInfo, ModelPredictor
    from .predict.schema import ValidationReport
    from .records import LoadedVersion, VersionInfo
    from .records.signature import ColumnSpec, Signature, infer_signature
    from .registry import CustomModelRegistry


__all__ = [
    "BaseModelRegistry",
    "BundleError",
    "BundleNotFoundError",
    "ClassOrderWarning",
    "ColumnSpec",
    "ConcurrentWriteError",
    "CorruptRecordError",
    "CorruptRegistryError",
    "CustomModelRegistry",
    "EnvironmentMismatchWarning",
    "FlavorError",
    "FormatVersionError",
    "ImportConflictError",
    "IntegrityError",
    "InvalidArgumentError",
    "InvalidIdentifierError",
    "InvalidMetadataError",
    "InvalidNameError",
    "InvalidStageError",
    "LoadedVersion",
    "LockTimeoutError",
    "MissingDependencyError",
    "ModelExistsError",
    "ModelFactoryWarning",
    "ModelInfo",
    "ModelNotFoundError",
    "ModelPredictor",
    "ModelRef",
    "ObjectStoreError",
    "OutputExistsError",
    "PickleRefusedError",
    "PredictorError",
    "ProtectedVersionError",
    "RegistryError",
    "RegistryPermissionError",
    "SchemaError",
    "Signature",
    "StageName",
    "UnexpectedArgumentError",
    "UnsafeHostError",
    "UnsafeLinkError",
    "ValidationReport",
    "VersionInfo",
    "VersionNotFoundError",
    "infer_signature",
    "parse_identifier",
    "register_flavor",
    "register_model_factory",
    "unregister_flavor",
    "unregister_model_factory",
]


#: names imported on first use, each from the module that defines it.  The errors above are
#: imported eagerly (they need only ``typing``); everything else waits for its first use, so
#: that ``import fsregistry`` - which every pytest run pays through the plugin, and every
#: ``fsregistry`` command - stays cheap, and numpy and pandas (the predictor and
#: signatures) are imported only by code that needs them.
_LAZY = {
    "BaseModelRegistry": "fsregistry.base",
    "ColumnSpec": "fsregistry.records.signature",
    "CustomModelRegistry": "fsregistry.registry",
    "LoadedVersion": "fsregistry.records",
    "ModelInfo": "fsregistry.predict.predictor",
    "ModelPredictor": "fsregistry.predict.predictor",
    "ModelRef": "fsregistry.identifiers",
    "Signature": "fsregistry.records.signature",
    "StageName": "fsregistry.names",
    "ValidationReport": "fsregistry.predict.schema",
    "VersionInfo": "fsregistry.records",
    "infer_signature": "fsregistry.records.signature",
    "parse_identifier": "fsregistry.identifiers",
    "register_flavor": "fsregistry.flavors",
    "register_model_factory": "fsregistry.flavors.pytorch",
    "unregister_flavor": "fsregistry.flavors",
    "unregister_model_factory": "fsregistry.flavors.pytorch",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it, so later lookups are plain reads."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fsregistry' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
