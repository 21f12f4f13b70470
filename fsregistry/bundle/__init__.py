"""Portable bundles: move versions between registries (and air-gapped boxes) as one file.

A bundle is one tar archive (gzip-compressed unless its name ends in ``.tar``) holding::

    fsregistry-bundle.json             the manifest: every other member's SHA-256 and size,
                                       and each model's own description and tags
    models/<NAME>/<VERSION>/meta.json  the version's record, as it was at export
    models/<NAME>/<VERSION>/model.bin  ... and every payload file its meta.json lists

Export copies what the versions' ``meta.json`` describe, verifying each payload file's
hash while it is written, and publishes the archive with one ``os.replace`` so a crash
never leaves half a bundle under the final name.

Import is *audit, then write*.  Before anything is written, every member header is
checked (a regular file, a safe relative name that the manifest lists, no duplicate, not
over the size cap) and so is the manifest itself; a link, a device, ``..``, an absolute
name or an unknown member refuses the whole bundle.  Then each version is extracted into
the registry's staging area (invisible to readers) while its SHA-256 is computed, and
only when *every* file of *every* version matched does anything get published, one
version at a time with the same rename-into-place guarantee as ``save_model``.

What import keeps: name, version number (when this registry never used it), run id,
creation time, params, metrics, tags, description, signature, input example and the
recorded environment.  What it does not carry over: stage and aliases - promotion is the
receiving registry's decision - unless ``keep_stages=True``; the originals are recorded
in ``meta["source"]`` along with where and when the version was imported from.  The
model's own description and tags (the manifest's optional ``models`` table) are applied
where the receiving model has none, and the receiving model's own are kept otherwise.
"""

from __future__ import annotations

from .archive import BUNDLE_FORMAT, DEFAULT_MAX_MEMBER_SIZE, MANIFEST_NAME
from .audit import read_manifest
from .export import export_model
from .importer import ImportedVersion, import_model

__all__ = [
    "BUNDLE_FORMAT",
    "DEFAULT_MAX_MEMBER_SIZE",
    "MANIFEST_NAME",
    "ImportedVersion",
    "export_model",
    "import_model",
    "read_manifest",
]
