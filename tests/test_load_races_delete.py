"""A load that races a delete of the same version gets the complete model or
``VersionNotFoundError``: never ``FileNotFoundError``, a false ``IntegrityError`` (which
would page someone about corruption) or a ``FlavorError``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flavor_cases import CASES
from toy_models import Doubler

from fsregistry import CustomModelRegistry, IntegrityError, VersionNotFoundError, records
from fsregistry.storage import hashing, pickling
from fsregistry.store import payload

#: where the delete lands, and whether the load verifies hashes (hashing happens only then)
POINTS = [
    ("after meta.json", True),
    ("after meta.json", False),
    ("before model.bin is hashed", True),
    ("before the model is deserialised", True),
    ("before the model is deserialised", False),
    ("before the preprocessor is unpickled", True),
    ("before the preprocessor is unpickled", False),
]


def _delete_at(point: str, registry: CustomModelRegistry, uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next load delete ``uri`` (with force) at ``point``, then carry on reading."""
    done: list[bool] = []

    def delete_once() -> None:
        if not done:
            done.append(True)
            registry.delete_model(uri.removeprefix("models:/"), force=True)

    def before(module: Any, attr: str, when: Callable[..., bool] = lambda *a, **k: True) -> None:
        real = getattr(module, attr)

        def hooked(*args: Any, **kwargs: Any) -> Any:
            if when(*args, **kwargs):
                delete_once()
            return real(*args, **kwargs)

        monkeypatch.setattr(module, attr, hooked)

    if point == "after meta.json":
        real_read = records.read_meta

        def read_meta(*args: Any, **kwargs: Any) -> Any:
            meta = real_read(*args, **kwargs)
            delete_once()
            return meta

        monkeypatch.setattr(records, "read_meta", read_meta)
    elif point == "before model.bin is hashed":
        before(hashing, "load_verified", lambda path, *a, **k: Path(path).name == "model.bin")
    elif point == "before the model is deserialised":
        before(payload, "_flavor_load")
    else:
        before(pickling, "load")


@pytest.mark.parametrize("case", ["xgb-classifier-binary", "torch-state-dict", "sk-pipeline"])
@pytest.mark.parametrize(("point", "verify"), POINTS)
def test_a_delete_in_the_middle_of_a_load_is_version_not_found(
    point: str, verify: bool, case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, kwargs = CASES[case].build()
    registry = CustomModelRegistry(tmp_path / "reg")
    uri = registry.save_model(model, "m", preprocessor_artifact={"scale": 2}, **kwargs)
    _delete_at(point, registry, uri, monkeypatch)
    with pytest.raises(VersionNotFoundError, match="deleted while it was being read"):
        registry.load_model(uri, verify=verify, model_factory=kwargs.get("model_factory"))
    monkeypatch.undo()
    assert registry.check().problems == []


def test_a_corrupt_file_of_a_version_that_is_still_there_is_still_an_integrity_error(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    uri = registry.save_model(Doubler(), "m")
    path = registry.version_path(uri) / "model.bin"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        registry.load_model(uri)


def test_get_model_version_racing_a_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    uri = registry.save_model(Doubler(), "m")
    real = records.read_meta

    def vanished(*args: Any, **kwargs: Any) -> Any:
        registry.delete_model("m/1")
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "read_meta", vanished)
    with pytest.raises(VersionNotFoundError):
        registry.get_model_version(uri)


@pytest.mark.slow
def test_loads_racing_real_deletes_get_a_model_or_version_not_found(tmp_path: Path) -> None:
    """Threads: one saves and deletes versions over and over, two load them.  Whatever the
    interleaving, each load returns a complete model or raises VersionNotFoundError."""
    registry = CustomModelRegistry(tmp_path / "reg")
    model, kwargs = CASES["xgb-classifier-binary"].build()
    registry.save_model(model, "m", **kwargs)
    rounds = 40
    unexpected: list[BaseException] = []
    outcomes = {"loaded": 0, "gone": 0}
    lock = threading.Lock()
    published = threading.Semaphore(0)
    stop = threading.Event()

    def writer() -> None:
        try:
            for _ in range(rounds):
                uri = registry.save_model(model, "m", **kwargs)
                published.release()
                published.release()
                registry.delete_model(uri.removeprefix("models:/"))
        finally:
            stop.set()
            published.release()
            published.release()

    def reader() -> None:
        while not stop.is_set():
            published.acquire()
            try:
                data = registry.load_model("m/latest")
                assert data["model"] is not None
                key = "loaded"
            except VersionNotFoundError:
                key = "gone"
            except BaseException as exc:
                unexpected.append(exc)
                return
            with lock:
                outcomes[key] += 1

    threads = [threading.Thread(target=writer), *(threading.Thread(target=reader) for _ in range(2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert unexpected == [], unexpected
    assert sum(outcomes.values()) > 0
