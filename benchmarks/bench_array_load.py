"""Where the time of a pickled numpy array's load goes: the copy, the registry's fixed cost,
the CPU caches and the allocator, measured apart.

    .venv/bin/python benchmarks/bench_array_load.py [--repeat 41] [--dir /path/on/target/disk]

``bench_flavors.py`` measures the verified load of a 10 MB array at about 1.8x its raw
load, ``verify=False`` as slow, and the 0.1 MB and 1 MB arrays at about 3x.  This script
takes such loads apart.  For numpy arrays of 0.1, 1, 10 and 100 MB, saved by the
registry's python flavor (cloudpickle, protocol 5, one file) and, for the raw baseline,
by ``cloudpickle.dump`` to a file of its own (as ``bench_flavors.py`` does), it measures,
as medians of ``--repeat`` rounds (at most 15 at 100 MB):

* *round robin*: ``bench_flavors.py``'s load round, calls one after the other in its
  order (the raw load, BLAKE3 alone, SHA-256 alone, the registry load of a version loaded
  before, ``verify="full"``, the same of a version whose record has SHA-256 only,
  ``verify=False``): the ratios that script reports, with the minor page faults of each
  load (``getrusage``) and the memory a load allocates at its peak (``tracemalloc``, one
  untimed call each);
* the raw load, the same raw load of the version's own ``model.bin`` (the same bytes,
  the file the registry reads), the verified load and ``verify=False`` *on equal terms*, in
  two states of the CPU caches: *cold*, each call right after reading a 64 MiB scratch
  buffer (twice this VM's L3 cache), and *warm*, each call right after the same call; the
  calls in a new order each round, so that none always follows the same one;
* the *fixed cost*: the registry load of a one-element array minus the raw load of its
  file, both cold, and both right after a verified load of the array (the state in which
  the registry's own code starts in a series of warm verified loads); and, as
  ``bench_registry.py`` measures it, with tiny loads in a row;
* *fresh pages*: mapping ``size`` bytes from the kernel and touching every page, what a
  load would pay on top if its buffer came from fresh pages rather than memory the
  process had freed.

The first table is the round robin; the second puts each load beside the raw load and
the fixed cost measured in the same state, with the ratio that the raw load of the
version's file plus the fixed cost predicts.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import pickle
import platform
import random
import resource
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np

from fsregistry import CustomModelRegistry
from fsregistry.storage import hashing

SIZES_MB = (0.1, 1, 10, 100)
SCRATCH = np.ones(64 * 2**20, dtype=np.uint8)  # read in full to empty the CPU caches
PAGE = mmap.PAGESIZE

Call = Callable[[], Any]


def raw_save(array: np.ndarray, path: Path) -> None:
    with open(path, "wb") as fh:
        cloudpickle.dump(array, fh, protocol=5)


def raw_load(path: Path) -> Any:
    """``bench_flavors.py``'s raw load of a pickled array, to the letter."""
    with open(path, "rb") as fh:
        return pickle.load(fh)


def scrub() -> None:
    """Read 64 MiB: what the CPU caches held before is gone.  (Reading, not writing:
    glibc's ``memset`` of a block this size bypasses the caches, and written lines would
    leave the next call their write-back to pay.)"""
    SCRATCH.max()


def fresh_pages(size: int) -> None:
    """Map ``size`` bytes of fresh memory and touch each page (one page fault each);
    private, as ``malloc`` maps large blocks (a shared mapping faults twice as slowly)."""
    block = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    view = np.frombuffer(block, dtype=np.uint8)
    view[::PAGE] = 1
    del view
    block.close()


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def rounds(
    steps: dict[str, tuple[Call | None, Call]], repeat: int, shuffle: bool = False
) -> tuple[dict[str, float], dict[str, float]]:
    """Median milliseconds and minor page faults of each step's call, after one untimed
    warm-up each; a step is ``(before, call)``, ``before`` run untimed right before the
    call.  The steps run in turn, round after round, so that noise lands on all alike: in
    the order given, or, with ``shuffle``, in a new order each round (so that no step
    always follows the same one)."""
    for before, call in steps.values():
        if before is not None:
            before()
        call()
    times: dict[str, list[float]] = {key: [] for key in steps}
    faults: dict[str, list[int]] = {key: [] for key in steps}
    order = list(steps)
    shuffler = random.Random(0)
    for _ in range(repeat):
        if shuffle:
            shuffler.shuffle(order)
        for key in order:
            before, call = steps[key]
            if before is not None:
                before()
            first = minor_faults()
            start = time.perf_counter()
            call()
            times[key].append(time.perf_counter() - start)
            faults[key].append(minor_faults() - first)
    return (
        {key: statistics.median(values) * 1000 for key, values in times.items()},
        {key: statistics.median(values) for key, values in faults.items()},
    )


def peak_mb(call: Call) -> float:
    """The most memory ``call`` held at once beyond what was held before it, traced."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call()
        return (tracemalloc.get_traced_memory()[1] - before) / 1e6
    finally:
        tracemalloc.stop()


def measure(work: Path, registry: CustomModelRegistry, index: int, megabytes: float, repeat: int) -> dict[str, Any]:
    size = int(megabytes * 1e6)
    array = np.random.default_rng(0).random(size // 8)
    raw_file, tiny_file = work / f"array-{index}.pkl", work / f"tiny-{index}.pkl"
    raw_save(array, raw_file)
    raw_save(np.zeros(1), tiny_file)
    name = f"array{index}"
    uri = registry.save_model(array, name)
    sha256_only = registry.save_model(array, name)
    # version 2 as a version written before BLAKE3 was recorded, as in bench_flavors.py
    meta_path = registry.layout.meta_file(name, 2)
    meta = json.loads(meta_path.read_text())
    for entry in meta["files"].values():
        entry.pop("blake3", None)
    meta_path.write_text(json.dumps(meta))
    tiny = registry.save_model(np.zeros(1), f"tiny{index}")
    time.sleep(1.1)  # stamps are kept for files older than a second (docs/core.md)
    for loaded_before in (uri, tiny):
        registry.load_model(loaded_before, verify="full")

    stored = registry.version_path(uri) / "model.bin"

    def raw() -> Any:
        return raw_load(raw_file)

    def raw_stored() -> Any:
        return raw_load(stored)

    def verified() -> Any:
        return registry.load_model(uri)

    def unverified() -> Any:
        return registry.load_model(uri, verify=False)

    def tiny_raw() -> Any:
        return raw_load(tiny_file)

    def tiny_registry() -> Any:
        return registry.load_model(tiny)

    robin, faults = rounds(
        {
            "raw": (None, raw),
            "blake3": (None, lambda: hashing.digest_file(raw_file, "blake3")),
            "sha256": (None, lambda: hashing.digest_file(raw_file, "sha256")),
            "verified": (None, verified),
            "full": (None, lambda: registry.load_model(uri, verify="full")),
            "sha256_version": (None, lambda: registry.load_model(sha256_only, verify="full")),
            "unverified": (None, unverified),
        },
        repeat,
    )
    steps: dict[str, tuple[Call | None, Call]] = {}
    for key, call in {"raw": raw, "stored": raw_stored, "verified": verified, "unverified": unverified}.items():
        steps[f"cold_{key}"] = (scrub, call)
        steps[f"warm_{key}"] = (call, call)
    for key, call in {"tiny_raw": tiny_raw, "tiny": tiny_registry}.items():
        steps[f"cold_{key}"] = (scrub, call)
        steps[f"warm_{key}"] = (verified, call)  # the state a verified load after a verified load starts in
        steps[f"row_{key}"] = (call, call)  # bench_registry.py's fixed cost: tiny loads in a row
    steps["fresh_pages"] = (None, lambda: fresh_pages(size))
    parts, _ = rounds(steps, repeat, shuffle=True)
    return {
        "size_mb": raw_file.stat().st_size / 1e6,
        "robin": robin,
        "faults": faults,
        "parts": parts,
        "peak_raw": peak_mb(raw),
        "peak_verified": peak_mb(verified),
    }


def robin_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| size | raw load | verified, loaded before | verify=False "
        "| page faults per load, raw / verified | peak allocated, raw / verified | fresh pages: map + touch |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        robin, faults = r["robin"], r["faults"]
        lines.append(
            f"| {r['size_mb']:.1f} MB | {robin['raw']:.3f} ms "
            f"| {robin['verified']:.3f} ms, {robin['verified'] / robin['raw']:.2f}x "
            f"| {robin['unverified']:.3f} ms, {robin['unverified'] / robin['raw']:.2f}x "
            f"| {faults['raw']:,.0f} / {faults['verified']:,.0f} "
            f"| {r['peak_raw']:.2f} / {r['peak_verified']:.2f} MB | {r['parts']['fresh_pages']:.3f} ms |"
        )
    return "\n".join(lines)


def parts_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| size | CPU caches | raw load | raw load of the version's model.bin | verified, loaded before "
        "| verify=False | fixed cost | verified / raw | (raw load of model.bin + fixed cost) / raw |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for state in ("cold", "warm"):
            p = {key.removeprefix(f"{state}_"): value for key, value in r["parts"].items() if key.startswith(state)}
            fixed = p["tiny"] - p["tiny_raw"]
            in_a_row = r["parts"]["row_tiny"] - r["parts"]["row_tiny_raw"]
            shown = f"{fixed:.3f} ms" + (f" ({in_a_row:.3f} ms in a row)" if state == "warm" else "")
            lines.append(
                f"| {r['size_mb']:.1f} MB | {state} | {p['raw']:.3f} ms | {p['stored']:.3f} ms "
                f"| {p['verified']:.3f} ms | {p['unverified']:.3f} ms | {shown} | {p['verified'] / p['raw']:.2f}x "
                f"| {(p['stored'] + fixed) / p['raw']:.2f}x |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=41, help="rounds per size (medians; at most 15 at 100 MB)")
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary folder)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="fsregistry-bench-", dir=args.dir))
    try:
        registry = CustomModelRegistry(work / "registry")
        rows = [
            measure(work, registry, i, megabytes, args.repeat if megabytes < 100 else min(args.repeat, 15))
            for i, megabytes in enumerate(SIZES_MB)
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}; medians of {args.repeat} rounds "
        f"({min(args.repeat, 15)} at 100 MB); {PAGE} B pages.\n"
    )
    print("Round robin, in bench_flavors.py's order:\n")
    print(robin_table(rows))
    print("\nOn equal terms: cold, each call right after 64 MiB read; warm, right after the same call:\n")
    print(parts_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
