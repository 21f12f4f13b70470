"""Where each page lives, for the live server and for the static export.

One :class:`Links` value is handed to every renderer, so a page never spells a URL
itself: the server's pages link with absolute paths (``/models/NAME/versions/3``), the
exported pages with paths relative to the page being written
(``../../models/NAME/versions/3.html``), which is what lets an exported folder be zipped,
moved, and opened from ``file://``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class Links:
    """URL builder.  ``prefix`` leads from the current page to the site root; ``static``
    selects file names (``.html``) instead of server paths."""

    prefix: str = "/"
    static: bool = False

    @classmethod
    def exported(cls, depth: int) -> Links:
        """Links for a static page ``depth`` folders below the site root."""
        return cls(prefix="../" * depth, static=True)

    def home(self) -> str:
        return f"{self.prefix}index.html" if self.static else self.prefix

    def model(self, name: str) -> str:
        return f"{self.prefix}{model_path(name, self.static)}"

    def history(self, name: str) -> str:
        return f"{self.prefix}{history_path(name, self.static)}"

    def version(self, name: str, version: int) -> str:
        return f"{self.prefix}{version_path(name, version, self.static)}"

    def version_pattern(self, name: str) -> tuple[str, str]:
        """``(before, after)`` such that ``before + str(n) + after`` links to version ``n``
        (the page's script builds its links this way)."""
        before, _, after = self.version(name, 1).rpartition("1")
        return before, after

    def compare(self, name: str, versions: Iterable[int] = ()) -> str:
        """The compare page of a model, showing ``versions`` (the first is the baseline)."""
        query = urlencode([("v", int(v)) for v in versions])
        return f"{self.prefix}{compare_path(name, self.static)}" + (f"?{query}" if query else "")

    def search(self) -> str:
        """The search across every model's versions."""
        return f"{self.prefix}{search_path(self.static)}"


def model_path(name: str, static: bool) -> str:
    """Path of a model's page below the site root."""
    return f"models/{quote(name, safe='')}/" + ("index.html" if static else "")


def history_path(name: str, static: bool) -> str:
    """Path of a model's stage-history page below the site root."""
    return f"models/{quote(name, safe='')}/history" + (".html" if static else "")


def version_path(name: str, version: int, static: bool) -> str:
    """Path of one version's page below the site root."""
    return f"models/{quote(name, safe='')}/versions/{int(version)}" + (".html" if static else "")


def compare_path(name: str, static: bool) -> str:
    """Path of a model's compare page below the site root."""
    return f"models/{quote(name, safe='')}/compare" + (".html" if static else "")


def search_path(static: bool) -> str:
    """Path of the search across models below the site root."""
    return "search.html" if static else "search"
