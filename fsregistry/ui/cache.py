"""What the live server keeps between requests: each model's version listing and its page,
stored with the model's summary they were built from, and used only while it is unchanged.

Why: listing 2,000 versions costs tens of milliseconds however the page is drawn, and
issue 14 asks for a 2,000-version model page within twice the server time of a
10-version one.  Why it stays live: the summary (``get_model``) is re-read on every
request, cheaply, and carries ``updated_at``, which the registry stamps on the model's
index with every change it makes to any version (a save, a stage, an alias, a tag, a
description, a delete), along with the count, the newest version, the stages, the aliases
and the model's own tags and description.  A request that finds a different summary
rebuilds, so another process's change shows on the next reload, as before.  The summary
is read *before* the data it stands for, so a change landing in between leaves a newer
listing under an older summary, which the next request replaces; never the reverse.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .data import RegistryReader

T = TypeVar("T")

#: models whose listing and page are kept (least recently used ones are dropped first)
MAX_MODELS = 128


def token(summary: dict[str, Any]) -> str:
    """A model's summary as one comparable string."""
    return json.dumps(summary, sort_keys=True, default=str)


class SummaryCache:
    """Values keyed by ``(kind, model)``, each valid for one summary token; thread-safe."""

    def __init__(self, max_items: int = 2 * MAX_MODELS) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[str, Any]] = OrderedDict()  # (kind, model): (token, value)
        self._lock = threading.Lock()
        self.max_items = max_items
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget everything (the next request of each page rebuilds it)."""
        with self._lock:
            self._items.clear()

    def get_or_build(self, kind: str, name: str, summary_token: str, build: Callable[[], T]) -> T:
        """The value stored for ``(kind, name)`` under ``summary_token``, or ``build()``'s
        (stored for next time).  ``build`` runs outside the lock: two requests may build
        the same value at once, which is harmless."""
        key = (kind, name)
        with self._lock:
            found = self._items.get(key)
            if found is not None and found[0] == summary_token:
                self._items.move_to_end(key)
                self.hits += 1
                return found[1]
            self.misses += 1
        value = build()
        with self._lock:
            self._items[key] = (summary_token, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value


class CachedReader:
    """A :class:`~fsregistry.ui.data.RegistryReader` whose ``list_versions`` is answered
    from a :class:`SummaryCache` while the model's summary is unchanged; everything else
    goes straight to the registry."""

    def __init__(self, registry: RegistryReader, cache: SummaryCache | None = None) -> None:
        self.registry = registry
        self.cache = cache if cache is not None else SummaryCache()

    @property
    def root(self) -> Path | str:
        return self.registry.root

    def list_models(self) -> list[dict[str, Any]]:
        return self.registry.list_models()

    def get_model(self, model_name: str) -> dict[str, Any]:
        return self.registry.get_model(model_name)

    def list_versions(self, model_name: str) -> list[dict[str, Any]]:
        try:
            summary = self.registry.get_model(model_name)
        except LookupError:  # e.g. a model left with no versions: no summary to key by
            return self.registry.list_versions(model_name)
        return self.cache.get_or_build(
            "versions", model_name, token(summary), lambda: self.registry.list_versions(model_name)
        )

    def get_model_version(self, model_identifier: str) -> dict[str, Any]:
        return self.registry.get_model_version(model_identifier)

    def version_path(self, model_identifier: str) -> Path:
        return self.registry.version_path(model_identifier)

    def resolve(self, model_identifier: str) -> tuple[str, int]:
        return self.registry.resolve(model_identifier)
