"""Helpers that run inside Dask worker processes in ``test_dask_scoring.py``.

Worker processes start with the test process's ``sys.path``, so these module-level
functions and classes unpickle there by reference: a gate that holds a task until the
test says go, and peak-memory probes.
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

GATE_TIMEOUT_S = 300.0  # a safety net against a hung test, not a timing assumption


class Gate:
    """A preprocessor wrapper: while ``<folder>/armed`` exists, every ``transform`` outside
    the process that built it leaves ``started-<pid>-<id>`` in ``folder`` and waits for
    ``<folder>/go`` before transforming.  The test thus knows that a task is running, in
    which worker process, and decides when it may go on."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner = inner
        self.folder = str(folder)
        self.owner = os.getpid()

    def transform(self, X: Any) -> Any:
        folder = Path(self.folder)
        if os.getpid() != self.owner and (folder / "armed").exists():
            (folder / f"started-{os.getpid()}-{uuid.uuid4().hex[:8]}").touch()
            deadline = time.monotonic() + GATE_TIMEOUT_S
            while not (folder / "go").exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no {folder / 'go'} after {GATE_TIMEOUT_S} s")
                time.sleep(0.01)
        return self.inner.transform(X)


def wait_for_file(folder: Path, pattern: str, timeout: float = GATE_TIMEOUT_S) -> Path:
    """The first file in ``folder`` matching ``pattern``, once one exists."""
    deadline = time.monotonic() + timeout
    while True:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing matched {folder / pattern} after {timeout} s")
        time.sleep(0.01)


def warm(pin: Any, source: str, folder: str) -> int:
    """Pay this worker's first-use costs, as a job does them: import dask.dataframe, load
    the pinned version, read a Parquet file, predict, write a Parquet file into ``folder``."""
    import dask.dataframe  # noqa: F401 - what a worker imports to run its first DataFrame task
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fsregistry.predict.distributed import predictor_for

    frame = pq.ParquetFile(source).read_row_groups([0]).to_pandas()
    predictions = predictor_for(pin).predict(frame)
    table = pa.Table.from_pandas(pd.DataFrame({"probability": predictions}), preserve_index=False)
    pq.write_table(table, Path(folder) / f"warm-{os.getpid()}.parquet")
    return len(predictions)


def reset_peak() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs``); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def peak_rss() -> int:
    """Peak resident memory of this process since the last reset, in bytes."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss() -> int:
    """Current resident memory of this process, in bytes."""
    import psutil

    return int(psutil.Process().memory_info().rss)
