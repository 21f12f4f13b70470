"""Start-up cost: what fsregistry adds to a fresh Python process.

    python benchmarks/bench_startup.py [--runs 15]

Each command runs ``--runs`` times, interleaved with its baseline round by round so both
share the machine's noise; the medians are compared.  Targets (docs/benchmarks.md):
``import fsregistry`` adds at most 50 ms to ``python -c pass``; ``fsregistry models``,
``versions`` and ``show`` add at most 150 ms; the pytest plugin adds at most 20 ms to a run
that does not use its fixtures (measured against the same run with ``-p no:fsregistry``).
``import fsregistry`` imports the registry itself on first use, so the cost of a script's
usual first line, ``from fsregistry import CustomModelRegistry``, is printed too (no target).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
TARGETS_MS: dict[str, int | None] = {
    "import fsregistry": 50,
    "import the registry": None,
    "fsregistry models": 150,
    "fsregistry versions": 150,
    "fsregistry show": 150,
    "pytest plugin": 20,
}


def _timed(argv: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as users run it
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _pair(label: str, argv: list[str], base: list[str], cwd: Path, runs: int) -> tuple[str, float, float]:
    mine, raw = [], []
    _timed(argv, cwd)  # warm the byte-code cache
    for _ in range(runs):
        raw.append(_timed(base, cwd))
        mine.append(_timed(argv, cwd))
    return label, statistics.median(mine) * 1000, statistics.median(raw) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = work / "registry"
        subprocess.run(
            [
                PY,
                "-c",
                f"from fsregistry import CustomModelRegistry as R; R({str(root)!r}).save_model({{'w': 1}}, 'm')",
            ],
            check=True,
        )
        (work / "test_nothing.py").write_text("def test_nothing():\n    assert True\n")
        cli = [PY, "-m", "fsregistry", "--root", str(root)]
        rows = [
            _pair("import fsregistry", [PY, "-c", "import fsregistry"], [PY, "-c", "pass"], work, args.runs),
            _pair(
                "import the registry",
                [PY, "-c", "from fsregistry import CustomModelRegistry"],
                [PY, "-c", "pass"],
                work,
                args.runs,
            ),
            _pair("fsregistry models", [*cli, "models"], [PY, "-c", "pass"], work, args.runs),
            _pair("fsregistry versions", [*cli, "versions", "m"], [PY, "-c", "pass"], work, args.runs),
            _pair("fsregistry show", [*cli, "show", "m/1"], [PY, "-c", "pass"], work, args.runs),
        ]
        pytest = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_nothing.py"]
        plugin = _pair("pytest plugin", pytest, [*pytest, "-p", "no:fsregistry"], work, args.runs)
    print(f"{'command':<22} {'median ms':>10} {'baseline ms':>12} {'added ms':>9} {'target':>8}")
    for label, mine, raw in [*rows, plugin]:
        target = TARGETS_MS[label]
        if target is None:
            goal, verdict = "-", ""
        else:
            goal, verdict = f"<= {target}", "met" if mine - raw <= target else "NOT met"
        print(f"{label:<22} {mine:>10.1f} {raw:>12.1f} {mine - raw:>9.1f} {goal:>8} {verdict}")


if __name__ == "__main__":
    main()
