"""The model browser as a static site: plain HTML files that open from ``file://``.

Every page is self-contained (inline stylesheet, script and SVG) and links to the others
by relative paths, so the folder can be zipped, copied off an air-gapped box and opened in
any browser.  Layout::

    index.html                          the models list
    search.html                         the search across every model's versions
    models/NAME/index.html              one model
    models/NAME/history.html            its stage history
    models/NAME/compare.html            its versions side by side (?v=3&v=2 picks them)
    models/NAME/versions/N.html         one version

The site is written into a fresh folder next to the target and moved into place at the
end, so an interrupted export never leaves a half-written site where a complete one was.
An existing target is replaced only if it is empty or an earlier export (it holds
:data:`SITE_MARKER`, a regular file with the content an export writes); any other folder,
and a target that is a symbolic link, is left untouched and the export is refused.

An export is made to be sent elsewhere, so by default it leaves out where things are on
this machine: the registry's absolute path (header, snippets, the marker file) and, for
imported versions, the folder of the bundle and the host and registry it was exported
from.  ``include_paths=True`` keeps them.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import OutputExistsError
from ..storage import files
from . import links as paths
from . import pages, render
from .data import RegistryReader
from .links import Links

#: file that marks a folder as an fsregistry export, which a later export may replace
SITE_MARKER = ".fsregistry-site.json"


def export_site(
    registry: RegistryReader,
    directory: str | os.PathLike[str],
    *,
    verify_files: bool = True,
    include_paths: bool = False,
) -> Path:
    """Write the browser's pages for every model and version into ``directory``; return
    its absolute path.  ``verify_files`` re-hashes the stored files so each version page
    records whether they were intact at export time.  ``include_paths`` keeps the
    registry's location and the hosts and folders imported versions came from, which are
    left out by default (the site is usually sent elsewhere)."""
    target = Path(os.path.abspath(directory))  # "a/missing/../b" is a/b: no folder made on the way
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".incomplete", dir=target.parent))
    try:
        staged.chmod(0o755)  # mkdtemp's 0o700 would make a shared site unreadable to others
        _write_site(registry, staged, verify_files=verify_files, include_paths=include_paths)
        _swap_into_place(staged, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return target


def _check_target(target: Path) -> None:
    if target.is_symlink():
        raise OutputExistsError(
            f"cannot export the site to {target}: it is a symbolic link; name the folder itself", path=str(target)
        )
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputExistsError(f"cannot export the site to {target}: it exists and is not a folder", path=str(target))
    if any(target.iterdir()) and not _is_earlier_export(target):
        raise OutputExistsError(
            f"cannot export the site to {target}: the folder is not empty and is not an earlier export; "
            "choose a new or empty folder",
            path=str(target),
        )


def _is_earlier_export(target: Path) -> bool:
    """Whether ``target`` holds the marker an export writes: a regular file (no link)
    holding its JSON, so that no folder is replaced on the strength of a name alone."""
    marker = target / SITE_MARKER
    if marker.is_symlink() or not marker.is_file():
        return False
    try:
        content = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(content, dict) and content.get("kind") == "fsregistry-site"


def _write_site(registry: RegistryReader, out: Path, *, verify_files: bool, include_paths: bool) -> None:
    """Render every page into ``out``.  A model or version deleted while exporting is left out."""
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    footer = f"exported {now}"
    root = str(registry.root) if include_paths else ""
    listing = pages.models_page(registry, show_paths=include_paths)
    _write(out / "index.html", render.models_page(listing, Links.exported(0), footer=footer))
    search = render.search_page(pages.search_page(registry), Links.exported(0), root=root, footer=footer)
    _write(out / paths.search_path(True), search)
    for row in listing.models:
        try:
            summary = registry.get_model(row.name)
            model = pages.model_page(registry, row.name, summary)
            history = pages.history_page(registry, row.name, show_paths=include_paths)
            comparison = pages.compare_page(registry, row.name)
        except LookupError:
            continue
        up = Links.exported(2)
        _write(out / paths.model_path(row.name, True), render.model_page(model, up, root=root, footer=footer))
        _write(out / paths.history_path(row.name, True), render.history_page(history, up, root=root, footer=footer))
        _write(out / paths.compare_path(row.name, True), render.compare_page(comparison, up, root=root, footer=footer))
        numbers = [v.version for v in model.versions]
        for version in numbers:
            try:
                page = pages.version_page(
                    registry,
                    row.name,
                    version,
                    verify_files=verify_files,
                    show_paths=include_paths,
                    summary=summary,
                    numbers=numbers,
                )
            except LookupError:
                continue
            html = render.version_page(page, Links.exported(3), root=root, footer=footer)
            _write(out / paths.version_path(row.name, version, True), html)
    marker = {"kind": "fsregistry-site", "format": 1, "exported_at": now}
    if include_paths:
        marker["registry"] = str(registry.root)
    _write(out / SITE_MARKER, json.dumps(marker, indent=2))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _swap_into_place(staged: Path, target: Path) -> None:
    """Move the finished site to ``target``, replacing an empty folder or an earlier export."""
    old = files.swap_dir_into_place(staged, target)
    if old is not None:
        files.remove_tree(old)
