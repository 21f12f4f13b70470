"""The object-store seam: the few operations a registry needs of a bucket.

An object store has no rename, no lock and no directories, but it has what a registry
needs to stay safe without them: *create only if absent* (``If-None-Match: *``) and
*replace only if unchanged* (``If-Match: <etag>``).  :class:`ObjectStore` names exactly
those operations, plus plain reads, listings, uploads and deletes; the version store for
object storage (:mod:`fsregistry.store.objects`) is written against it alone, so any
store that offers conditional writes can back a registry.  :mod:`fsregistry.storage.s3`
implements it for S3-compatible servers.

Keys are relative to the registry's root prefix; implementations add the prefix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Blob:
    """A small object read whole: its bytes and the entity tag that identifies this content."""

    data: bytes
    etag: str


@dataclass(frozen=True)
class Listed:
    """One object of a listing: its key (relative to the root), size, and last-modified
    time in seconds since the epoch."""

    key: str
    size: int
    modified: float


@dataclass(frozen=True)
class Upload:
    """An unfinished multipart upload (left by a writer that died while uploading)."""

    key: str
    upload_id: str
    started: float


class ObjectStore(Protocol):
    """What the registry does with a bucket.  ``url`` is the root as the user gave it
    (``s3://bucket/prefix``); every error an implementation raises names it."""

    url: str

    def get(self, key: str) -> Blob | None:
        """The object at ``key``, or ``None`` when there is none."""
        ...

    def put(self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None) -> str | None:
        """Write ``data`` at ``key``; returns the new entity tag.  ``if_absent`` creates it
        only if no object is there, ``if_match`` replaces it only if its tag is still
        ``if_match``; either returns ``None`` when its condition does not hold (another
        writer got there first), and nothing is written."""
        ...

    def refusal_was_retried(self) -> bool:
        """Whether the last refused :meth:`put` of this thread had been sent more than once:
        then its first attempt may have been applied, and the refusal answered the retry."""
        ...

    def upload(self, key: str, path: Path) -> None:
        """Upload a local file (in parts when it is large) to ``key``."""
        ...

    def download(self, key: str, path: Path) -> None:
        """Download ``key`` into the local file ``path`` (created or truncated)."""
        ...

    def listing(self, prefix: str) -> Iterator[Listed]:
        """Every object whose key starts with ``prefix``, in key order."""
        ...

    def list_folders(self, prefix: str) -> list[str]:
        """The names one level below ``prefix`` (which ends with ``/``)."""
        ...

    def delete(self, keys: list[str]) -> None:
        """Remove ``keys`` (a missing key is not an error)."""
        ...

    def unfinished_uploads(self, prefix: str) -> list[Upload]:
        """Multipart uploads under ``prefix`` that were started and never completed."""
        ...

    def abort_upload(self, upload: Upload) -> None:
        """Abort an unfinished multipart upload, freeing its parts."""
        ...


def parse_url(url: str) -> tuple[str, str, str]:
    """``(scheme, bucket, prefix)`` of a root URL such as ``s3://bucket/some/prefix``.  The
    prefix has no leading or trailing slash (it may be empty)."""
    scheme, _, rest = url.partition("://")
    bucket, _, prefix = rest.partition("/")
    return scheme.lower(), bucket, prefix.strip("/")
