"""The one place where fsregistry's exceptions live.

Every error the library raises on purpose derives from :class:`RegistryError`, and also
from the builtin a caller would naturally catch (``LookupError`` for "not found",
``TimeoutError`` for a lock timeout, ``ValueError`` for bad input).  Each carries the
context it is about (model name, version, path) as attributes, and pickles, so that it
survives being sent across processes.
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """Root of every error fsregistry raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        version: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.version = version
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only context would be lost by the default exception pickling.
        return (_rebuild, (type(self), self.message, self.name, self.version, self.path))

    def __str__(self) -> str:
        return self.message


def _rebuild(
    cls: type[RegistryError], message: str, name: str | None, version: int | None, path: str | None
) -> RegistryError:
    return cls(message, name=name, version=version, path=path)


class InvalidNameError(RegistryError, ValueError):
    """A model name, alias, stage or tag key that may not be used (checked before any I/O)."""


class InvalidIdentifierError(RegistryError, ValueError):
    """A model identifier that is not one of the accepted forms."""


class InvalidStageError(InvalidNameError):
    """A stage name that is not None/Development, Staging, Production or Archived."""


class ModelNotFoundError(RegistryError, LookupError):
    """No model, version, stage holder, alias or run matches what was asked for."""


class VersionNotFoundError(ModelNotFoundError):
    """The model exists but the requested version, stage or alias resolves to nothing."""


class ConcurrentWriteError(RegistryError):
    """Another writer published the same version at the same moment: the write lock did
    not hold (a file system whose locks are advisory or ignored).  Nothing was published
    by this call; retrying allocates the next number."""


class ModelExistsError(RegistryError, ValueError):
    """A name clashes with an existing model (e.g. it differs from one only by case)."""


class LockTimeoutError(RegistryError, TimeoutError):
    """The registry's write lock could not be acquired in time."""


class IntegrityError(RegistryError):
    """A stored file does not match the SHA-256 recorded for it in ``meta.json``."""


class CorruptRegistryError(RegistryError):
    """A registry file (marker, index, meta.json) is unreadable or malformed."""


class CorruptRecordError(CorruptRegistryError):
    """A JSON record (``meta.json``, ``model.json``, an index file, a run-map entry) that
    breaks its description in :mod:`fsregistry.records.fields`.  ``path`` is the file and
    ``field`` the offending field (``"files['model.bin'].size"``), or ``None`` when the
    file as a whole is wrong (not a JSON object)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        name: str | None = None,
        version: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, name=name, version=version, path=path)
        self.field = field

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_record, (self.message, self.field, self.name, self.version, self.path))


def _rebuild_record(
    message: str, field: str | None, name: str | None, version: int | None, path: str | None
) -> CorruptRecordError:
    return CorruptRecordError(message, field=field, name=name, version=version, path=path)


class FormatVersionError(RegistryError):
    """A file was written by a newer on-disk format than this fsregistry can read."""


class PickleRefusedError(RegistryError, PermissionError):
    """Loading would unpickle data, and this registry was opened with pickle refused."""


class FlavorError(RegistryError):
    """A model cannot be saved or loaded by any (or by its recorded) flavor."""


class UnexpectedArgumentError(FlavorError, TypeError):
    """``save_model`` was given a keyword that neither it nor the model's flavor takes (a
    misspelt ``tags=``, say): a ``TypeError``, as Python gives for any unknown keyword."""


class MissingDependencyError(FlavorError, ImportError):
    """A framework needed to load a model is not installed; the message names the extra."""


class SchemaError(RegistryError, ValueError):
    """Input data does not fit the model's signature (missing columns, unsafe dtypes...)."""


class PredictorError(RegistryError, ValueError):
    """The predictor cannot serve the request (no model loaded, empty input, ...)."""


class BundleError(RegistryError, ValueError):
    """An export bundle is malformed, hostile, truncated or fails verification."""


class BundleNotFoundError(RegistryError, FileNotFoundError):
    """There is no bundle file at the path given to import."""


class ImportConflictError(BundleError):
    """An imported version clashes with a different version already in the registry."""


class ProtectedVersionError(RegistryError, ValueError):
    """A retention rule or delete would remove a version that must be kept."""


class InvalidMetadataError(RegistryError, ValueError):
    """Metadata, tags or an input example that cannot be stored as JSON."""


class OutputExistsError(RegistryError, FileExistsError):
    """A destination (export folder, bundle file) exists and would be overwritten."""


class UnsafeHostError(RegistryError, ValueError):
    """A server was asked to listen beyond the loopback interface without saying so explicitly."""


class InvalidArgumentError(RegistryError, ValueError):
    """An option of an operation is out of range or malformed (e.g. a retention rule)."""


# -- warnings ---------------------------------------------------------------------------------


class EnvironmentMismatchWarning(UserWarning):
    """A model is being loaded with package versions other than those it was saved with."""


class ModelFactoryWarning(UserWarning):
    """The ``model_factory`` given to a load is not the one the version recorded at save."""


class ClassOrderWarning(UserWarning):
    """Class indexes are decoded to labels in an assumed (sorted) order: the model's own
    classes are 0..k-1 and the signature's labels came from a plain ``y``.  Filter it once
    you have checked that the order is right; pass ``y`` as a pandas Categorical whose
    categories are in encoding order to state another."""


class RegistryPermissionError(RegistryError, PermissionError):
    """The operating system refused to read, list, look up, write or lock a file or folder
    of the registry.  ``path`` names it and the message says what was refused: on a
    registry shared by a group, everyone who writes needs ``umask 002`` (docs/core.md)."""


class UnsafeLinkError(CorruptRegistryError, OSError):
    """A folder or record inside the registry root is a symbolic link.  fsregistry never
    reads or writes through one (a link could send a write outside the root); ``path``
    names the link.  Also an ``OSError``, as opening it with ``O_NOFOLLOW`` (``ELOOP``) is."""


class ObjectStoreError(RegistryError, OSError):
    """An object store (an ``s3://`` root) could not serve a request: the bucket is missing,
    the credentials are refused, the endpoint cannot be reached, or a request failed part-way
    through a write.  The message names the root URL as it was given; nothing half-written is
    left visible (``check(repair=True)`` removes what a failed write leaves unreferenced)."""
