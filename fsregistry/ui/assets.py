"""The browser's stylesheet and script, shipped inline in every page, and the page's CSP.

Nothing is fetched: no CDN, no web font, no external file, so the pages work on an
air-gapped box and from a zipped export opened with ``file://``.  The Content Security
Policy allows exactly this stylesheet and this script, by their SHA-256, and nothing else
(not even another inline script), which backs up the escaping in :mod:`.markup`.  A page's
data rides in ``<script type="application/json">`` blocks, which browsers never run, so the
policy needs no exception for them.
"""

from __future__ import annotations

import base64
import hashlib

from .script import SCRIPT
from .style import STYLE

__all__ = ["CONTENT_SECURITY_POLICY", "SCRIPT", "STYLE"]


def _sha256(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


#: what a page may load or run: this stylesheet and this script, and nothing from anywhere
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src '{_sha256(STYLE)}'; "
    f"script-src '{_sha256(SCRIPT)}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
