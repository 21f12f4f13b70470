"""The bundle format: member names, limits, and the checks both directions share.

See :mod:`fsregistry.bundle` for what a bundle is.
"""

from __future__ import annotations

import re
import tarfile
import zlib
from pathlib import Path
from typing import Any

from ..errors import BundleError

BUNDLE_KIND = "fsregistry-bundle"
#: bundle layout version; a newer one is refused with a clear message
BUNDLE_FORMAT = 1
MANIFEST_NAME = "fsregistry-bundle.json"
MODELS_PREFIX = "models"
#: default cap on one member's size; a bigger one is refused before anything is read
DEFAULT_MAX_MEMBER_SIZE = 64 * 1024**3
#: the manifest is JSON describing files, never large; nor is any ``meta.json``
MAX_MANIFEST_SIZE = 64 * 1024**2
#: more members than this is not a bundle fsregistry wrote
MAX_MEMBERS = 200_000
#: a version number above this is not one a registry allocated (and would bloat the index)
MAX_VERSION = 10_000_000

#: read/copy granularity for members
COPY_BLOCK = 1024 * 1024
#: the records (the manifest, each ``meta.json``) are read as the archive is first read
#: through, in archive order: a compressed stream cannot seek back without inflating it
#: again from the start, so reading them afterwards would inflate the archive once for
#: each.  Each is at most :data:`MAX_MANIFEST_SIZE`, and together at most this
MAX_RECORDS_TOTAL = 1024**3
#: the longest file name part a payload file may have (what a file system takes, and far
#: more than any flavor writes)
MAX_PART_LENGTH = 128
#: the largest extended header (pax, GNU long name) a bundle member may have: fsregistry's
#: own are a few hundred bytes, and tarfile reads one whole into memory and, before
#: Python 3.11.10 and 3.12.6, parses a malformed pax header in quadratic time
#: (CVE-2024-6232)
MAX_EXTENDED_HEADER = 8 * 1024
SHA256_RE = re.compile(r"[0-9a-f]{64}")
RUN_ID_RE = re.compile(r"[0-9a-f]{8,64}")
PART_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
REGULAR_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE)
#: what a corrupt or cut-short archive raises while it is read
READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


def refuse(path: Path, why: str) -> BundleError:
    """The error for a bundle that is refused whole, before anything is imported."""
    return BundleError(f"refusing bundle {path}: {why}; nothing was imported", path=str(path))


def is_safe_member_name(name: str) -> bool:
    """A plain relative archive path: no absolute or drive names, no ``..``, no empty parts."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def check_relative(relative: Any, what: str) -> str:
    """A payload file name from a ``meta.json``: plain relative parts only, each at most
    :data:`MAX_PART_LENGTH` characters."""
    parts = relative.split("/") if isinstance(relative, str) else [""]
    if not all(PART_RE.fullmatch(p) and ".." not in p and len(p) <= MAX_PART_LENGTH for p in parts):
        raise BundleError(f"{what} {relative!r}, which is not a safe relative file name")
    return str(relative)


class ExtendedHeaderTooLarge(tarfile.TarError):
    """An extended header (pax, GNU long name or link) over :data:`MAX_EXTENDED_HEADER`."""


class BoundedTarInfo(tarfile.TarInfo):
    """The headers of an untrusted archive, with every extended header's size checked
    before ``tarfile`` reads it into memory and parses it (``tarfile.open(tarinfo=...)``)."""

    _EXTENDED = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE, b"X")

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        # tarfile calls this for every header it reads; only ``tarfile.open(tarinfo=...)`` is
        # documented, and tarfile's source names this method as the one a subclass overrides
        # (tests/test_bundle.py's "extended header too large" case fails if that changes)
        if self.type in self._EXTENDED and self.size > MAX_EXTENDED_HEADER:
            raise ExtendedHeaderTooLarge(
                f"an extended header of {self.size} bytes (over {MAX_EXTENDED_HEADER}) at offset {self.offset}"
            )
        return super()._proc_member(archive)  # type: ignore[misc]
