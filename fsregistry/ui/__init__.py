"""A local model browser that works air-gapped: a read-only web UI and a static export.

>>> from fsregistry import CustomModelRegistry
>>> from fsregistry.ui import serve, export_site
>>> registry = CustomModelRegistry("/data/registry")         # doctest: +SKIP
>>> serve(registry, port=8000)                               # doctest: +SKIP
>>> export_site(registry, "site/")                           # doctest: +SKIP

Standard library only: pages are rendered on the server (charts are inline SVG), and
nothing is fetched from anywhere, so the same pages work on a box with no network and
as files opened from ``file://``.  See ``docs/ui.md``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from .data import RegistryReader
from .export import SITE_MARKER, export_site
from .server import UIServer, is_loopback, make_server

__all__ = ["SITE_MARKER", "UIServer", "export_site", "is_loopback", "make_server", "serve"]


def serve(
    registry: RegistryReader,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    ready: Callable[[UIServer], object] | None = None,
    allow_remote: bool = False,
    verify_files: bool = True,
) -> None:
    """Serve the browser until interrupted (Ctrl+C), printing its URL first.

    ``port=0`` picks a free port.  ``ready``, if given, is called with the bound
    :class:`UIServer` once its socket is listening: ``server.url`` is its address and
    ``server.shutdown()`` (from another thread) stops it; ``serve`` then closes the socket
    and returns.  ``ready`` runs in this thread, just before it starts answering, so it
    must return promptly (a request it made itself would wait forever).  A host other than
    loopback is refused unless ``allow_remote=True``.  ``verify_files=False`` skips
    re-hashing stored files on version pages (large models).
    """
    server = make_server(registry, host, port, allow_remote=allow_remote, verify_files=verify_files)
    with server:
        print(f"fsregistry UI for {registry.root} at {server.url} (read-only; Ctrl+C to stop)", flush=True)
        if ready is not None:
            ready(server)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
