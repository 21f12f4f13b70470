"""The floor: what the invariants of docs/design.md cost by themselves, without fsregistry's code.

``floor_save`` performs the bare system calls the invariants require of one save, and
nothing else: the model file written by the caller's own raw save (which fsyncs it) and
hashed with SHA-256 (after the write, in the same thread: for files of many megabytes the
floor is therefore not a lower bound, and fsregistry, which overlaps the hash with the
write, can beat it), a ``meta.json`` written and fsync'd, the version folder renamed into
place, an index written to a temporary file and ``os.replace``'d (a cache: no flush of its
own), and the model folder fsync'd so the rename and the replace survive a power cut.
Three waits for the disk, as docs/design.md ("Durability") argues is the least that keeps
a saved version whole after a power cut.  No lock, no validation, no run map, no listing
cache.  No implementation of the invariants can save faster on the same disk (up to that
hash), so for small models the ratio of this floor to a raw save is the lowest ratio any
registry keeping them can reach.  The benchmarks print it beside the targets.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path


def fsync_path(path: Path) -> None:
    """fsync a file or folder by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def floor_save(raw_save: Callable[[Path], Path | None], work: Path, n: int) -> None:
    """Publish version ``n`` under ``work`` with the invariants' system calls only;
    ``raw_save(path)`` writes and fsyncs the model file (the raw baseline's own save) and
    returns the path it wrote when a framework picked another suffix."""
    staged = work / f".staging-{n}"
    staged.mkdir()
    model_file = raw_save(staged / "model.bin") or staged / "model.bin"
    digest = sha256_of(model_file)
    with open(staged / "meta.json", "w") as fh:
        json.dump({"version": n, "files": {model_file.name: digest}}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(staged, work / str(n))
    with open(work / "index.tmp", "w") as fh:
        json.dump({"latest": n}, fh)
    os.replace(work / "index.tmp", work / "index.json")
    fsync_path(work)
