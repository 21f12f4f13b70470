"""``python -m fsregistry``: the same command-line interface as the ``fsregistry`` script."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
