"""Copy a whole registry to another root: a folder to a bucket, a bucket to a folder, or
between two of either.

Each model travels as a bundle (:mod:`fsregistry.bundle`), written to a temporary folder
and imported at once, so a copy checks every file's hash on the way, keeps version numbers,
stages, aliases, tags and descriptions, and can be run again after an interruption: versions
already copied are found by their run id and skipped (``"present"``).  One model's bundle is
on local disk at a time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bundle import ImportedVersion
    from .registry import CustomModelRegistry


def copy_registry(
    source: CustomModelRegistry, destination: CustomModelRegistry, models: list[str] | None = None
) -> list[ImportedVersion]:
    """Copy every model of ``source`` (or only ``models``) into ``destination``, keeping
    version numbers, stages and aliases; returns what each version became there."""
    names = models if models is not None else [m["name"] for m in source.list_models()]
    results: list[ImportedVersion] = []
    with tempfile.TemporaryDirectory(prefix="fsregistry-copy-") as tmp:
        for name in names:
            bundle = source.export_model(name, Path(tmp) / f"{name}.tar", compress=False)
            results += destination.import_model(bundle, keep_stages=True)
            bundle.unlink()
    return results
