"""What the benchmark scripts print alike: the machine they ran on, and Markdown tables."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from importlib import metadata


def machine(packages: Sequence[str]) -> str:
    """CPU, core count, Python and OS, and the installed version of each of ``packages``."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = ", ".join(f"{d} {metadata.version(d)}" for d in packages)
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}; {versions}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, as docs/benchmarks.md shows it."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
