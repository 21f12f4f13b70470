"""fsregistry: a self-contained, file-system model registry.

>>> from fsregistry import CustomModelRegistry, ModelPredictor
>>> registry = CustomModelRegistry("/data/registry")        # doctest: +SKIP

Importing the package imports no machine-learning framework; each is imported only when a
model of its flavor is saved or loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
from .base import BaseModelRegistry
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
from .flavors import register_flavor, unregister_flavor
from .flavors.pytorch import register_model_factory, unregister_model_factory
from .identifiers import ModelRef, parse_identifier
from .names import StageName
from .records import LoadedVersion, VersionInfo
from .registry import CustomModelRegistry

if TYPE_CHECKING:
    from .predict.predictor import ModelInfo, ModelPredictor
    from .predict.schema import ValidationReport
    from .records.signature import ColumnSpec, Signature, infer_signature


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


#: names imported on first use, so that ``import fsregistry`` imports neither numpy nor
#: pandas (the predictor and signatures need both)
_LAZY = {
    "ModelPredictor": "fsregistry.predict.predictor",
    "ModelInfo": "fsregistry.predict.predictor",
    "ValidationReport": "fsregistry.predict.schema",
    "ColumnSpec": "fsregistry.records.signature",
    "Signature": "fsregistry.records.signature",
    "infer_signature": "fsregistry.records.signature",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fsregistry' has no attribute {name!r}")
