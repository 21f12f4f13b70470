"""Tiny importable "models" for tests: they unpickle in any process that has ``tests/``
on ``sys.path``, so multi-process and crash tests can load what they saved."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class Doubler:
    """Predicts ``factor * sum(row)``."""

    def __init__(self, factor: float = 2.0) -> None:
        self.factor = factor

    def predict(self, X: object) -> np.ndarray:
        return np.asarray(X, dtype=float).sum(axis=1) * self.factor


class Tripwire:
    """Leaves a file behind when it is unpickled: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, ...]:
        return (_spring, (self.marker,))


def _spring(marker: str) -> str:
    Path(marker).write_text("unpickled")
    return marker


class Unpicklable:
    """An object whose serialisation fails, to inject a failure into save."""

    def __reduce__(self) -> tuple[object, ...]:
        raise RuntimeError("cannot serialise this model")
