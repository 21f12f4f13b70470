"""A writer whose registry lock does nothing, as on a file system that ignores locks.

``python lockless_worker.py ROOT WORKER N``: N rounds of save (half of them straight into
Production), promote, set an alias.  Prints one JSON line: the versions this worker
published, and how many of its calls were refused as collisions.  Anything else raised
is a failure (the test reads the exit status).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator

from toy_models import Doubler

from fsregistry import ConcurrentWriteError, CustomModelRegistry
from fsregistry.storage.lock import RegistryLock


@contextlib.contextmanager
def _no_lock(self: RegistryLock) -> Iterator[None]:
    yield


def main(root: str, worker: str, rounds: int) -> None:
    RegistryLock.hold = _no_lock  # type: ignore[method-assign]
    registry = CustomModelRegistry(root)
    published: list[int] = []
    collisions = 0
    for i in range(rounds):
        try:
            stage = "Production" if i % 2 else None
            uri = registry.save_model(Doubler(float(i)), "m", metadata={"worker": worker, "i": i}, stage=stage)
            version = int(uri.rsplit("/", 1)[1])
            published.append(version)
            registry.transition_model_stage(f"m/{version}", "Staging")
            registry.set_alias("m", "champ", version)
        except ConcurrentWriteError:
            collisions += 1
    print(json.dumps({"published": published, "collisions": collisions}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
