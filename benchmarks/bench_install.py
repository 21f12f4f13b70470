"""The README's first command, run as a new user would: install time and the venv's size.

    python benchmarks/bench_install.py [--command "python3 -m venv .venv && ..."]

Clones the repository's committed tree into a temporary folder and runs the first command
of the README's first ``bash`` block there, step by step (each ``&&``-separated part: make
the venv, install, run the main example), with ``python3`` from ``PATH`` and the package
index pip is configured with.  It prints each step's wall time and the size of ``.venv``
after it in MiB, counted as ``du -sh`` does (allocated blocks, each hard-linked file once).  The
size after the last step is what the command leaves on disk: with ``pip install
--no-compile`` the example's first run writes the byte code of the modules it imports.
``--command`` measures another command the same way (to compare a variant of the install).
Target (docs/benchmarks.md): under 400 MB and 45 s to install.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_MB = 400
TARGET_INSTALL_S = 45


def readme_command() -> str:
    """The first line of the README's first ``bash`` block: the main example's command."""
    found = re.search(r"```bash\n(.+)\n", (REPO / "README.md").read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit("README.md has no bash block")
    return found.group(1).strip()


def du_mib(path: Path) -> float:
    """Disk usage of ``path`` in MiB, as ``du -sh`` counts it."""
    seen: set[tuple[int, int]] = set()
    blocks = 0
    for folder, dirs, names in os.walk(path):
        for name in [*dirs, *names]:
            st = os.lstat(os.path.join(folder, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                blocks += st.st_blocks
    return blocks * 512 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", default=None, help="default: the README's first command")
    command = parser.parse_args().command or readme_command()
    steps = [part.strip() for part in command.split("&&")]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV")}
    print(f"command: {command}")
    print(f"{'step':<64} {'seconds':>8} {'.venv MiB':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "fsregistry"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        timings = []
        for step in steps:
            start = time.perf_counter()
            subprocess.run(["bash", "-c", step], cwd=clone, env=env, check=True, stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - start
            size = du_mib(clone / ".venv")
            timings.append((step, seconds, size))
            shown = step if len(step) <= 64 else step[:61] + "..."
            print(f"{shown:<64} {seconds:>8.1f} {size:>10.0f}")
    install = next(seconds for step, seconds, _ in timings if " install " in step)
    final = timings[-1][2]
    install_ok = "met" if install < TARGET_INSTALL_S else "NOT met"
    size_ok = "met" if final < TARGET_MB else "NOT met"
    print(f"install {install:.1f} s (target < {TARGET_INSTALL_S} s: {install_ok}); ", end="")
    print(f".venv after the command {final:.0f} MiB (target < {TARGET_MB} MB: {size_ok})")


if __name__ == "__main__":
    main()
