"""The registry interface every client (``ModelPredictor``, the CLI, the UI) depends on.

This is the seed document's ``BaseModelRegistry``: the six operations it names
(``save_model``, ``load_model``, ``list_models``, ``delete_model``,
``transition_model_stage``, ``get_model_by_stage``) plus aliases, tags and a
metadata-only lookup.  Clients must use nothing but these methods, so that any other
implementation (an in-memory one in tests, a cloud one later) can be swapped in.

Return values are plain dicts, as in the seed, so code written against the seed's
MLflow registry keeps working.  ``load_model`` returns at least::

    {'model', 'preprocessor_artifact', 'metadata': {'params', 'metrics', 'tags'},
     'run_id', 'name', 'version', 'stage', 'aliases', 'flavor', 'signature',
     'input_example', 'uri'}
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .names import StageName


class BaseModelRegistry(ABC):
    """Abstract model registry: persistence, versioning, stages, aliases and tags.

    ``config``, ``app_logger`` and ``error_handler`` are the seed's constructor
    arguments; implementations decide what they need from ``config``.  ``app_logger``
    is any ``logging.Logger``-like object (``None`` means the ``fsregistry`` logger).
    ``error_handler`` is kept for callers that pass one; if it has a callable
    ``handle_error(exc, context)`` (or is itself callable) it is notified of every
    error before the error is raised.  It cannot swallow errors.
    """

    def __init__(self, config: Any = None, app_logger: Any = None, error_handler: Any = None) -> None:
        self.config = config
        self.logger: Any = app_logger if app_logger is not None else logging.getLogger("fsregistry")
        self.error_handler = error_handler

    def _notify_error(self, exc: BaseException, context: str) -> None:
        """Tell the seed-style error handler about ``exc`` (it may log or count it)."""
        handler = self.error_handler
        if handler is None:
            return
        hook = getattr(handler, "handle_error", None)
        target = hook if callable(hook) else handler if callable(handler) else None
        if target is None:
            return
        try:
            target(exc, context)
        except Exception:  # a broken handler must not hide the original error
            self.logger.exception("error_handler failed while handling %r", exc)

    # -- the seed's six operations -------------------------------------------------

    @abstractmethod
    def save_model(
        self,
        model: Any,
        model_name: str,
        preprocessor_artifact: Any = None,
        signature: Any = None,
        input_example: Any = None,
        metadata: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> str:
        """Store ``model`` as the next version of ``model_name``; return ``models:/NAME/VERSION``."""

    @abstractmethod
    def load_model(self, model_identifier: str) -> Mapping[str, Any]:
        """Load the version ``model_identifier`` names (any accepted identifier form).

        Implementations may take keyword-only options (``CustomModelRegistry`` takes
        ``device=``, ``verify=``, ``model_factory=``, ``with_preprocessor=``); clients such as
        ``ModelPredictor`` pass them through only when their caller gave them."""

    @abstractmethod
    def list_models(self, model_name: str | None = None, tags: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """List models (``model_name=None``) or the versions of one model, filtered by tags."""

    @abstractmethod
    def delete_model(self, model_identifier: str) -> None:
        """Delete one version (``NAME/VERSION``) or a whole model (``NAME``)."""

    @abstractmethod
    def transition_model_stage(
        self, model_identifier: str, stage: StageName | None, archive_existing: bool = True
    ) -> Mapping[str, Any]:
        """Move a version to a stage; return its updated version info."""

    @abstractmethod
    def get_model_by_stage(self, model_name: str, stage: StageName) -> Mapping[str, Any]:
        """Load the version of ``model_name`` that holds ``stage``."""

    # -- what a modern registry needs on top ---------------------------------------

    @abstractmethod
    def get_model_version(self, model_identifier: str) -> Mapping[str, Any]:
        """Metadata of one version (stage, aliases, tags, signature...) without loading it."""

    @abstractmethod
    def set_alias(self, model_name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version`` of ``model_name`` (moving it if it existed)."""

    @abstractmethod
    def delete_alias(self, model_name: str, alias: str) -> None:
        """Remove ``alias`` from ``model_name``."""

    @abstractmethod
    def set_tag(self, model_identifier: str, key: str, value: Any) -> None:
        """Set a tag on a model (``NAME``) or on one version (any version identifier)."""

    @abstractmethod
    def delete_tag(self, model_identifier: str, key: str) -> None:
        """Remove a tag from a model (``NAME``) or from one version."""
