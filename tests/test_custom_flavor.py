"""A user's own flavor: register it, save and load through it, unregister it.

The toy flavor stores a :class:`Polynomial` as JSON (no pickle), so it also shows that a
custom native format loads in a registry that refuses pickle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry import CustomModelRegistry, FlavorError, PickleRefusedError
from fsregistry.flavors import LoadOptions, SavedModel, class_path, detect_flavor, get_flavor
from fsregistry.flavors.python import PythonFlavor


class Polynomial:
    """The toy model: y = sum(c_i * x**i)."""

    def __init__(self, coefficients: list[float]) -> None:
        self.coefficients = list(coefficients)

    def predict(self, xs: list[float]) -> list[float]:
        return [sum(c * x**i for i, c in enumerate(self.coefficients)) for x in xs]


class PolynomialFlavor:
    """Stores a Polynomial's coefficients as JSON; records the options it was saved with."""

    name = "polynomial"
    extra = ""
    packages: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.loads: list[LoadOptions] = []

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        return any(p.endswith(".Polynomial") for p in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        path.write_text(json.dumps(model.coefficients))
        return SavedModel("polynomial-json", uses_pickle=False, model_class=class_path(model), options=dict(kwargs))

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        self.loads.append(options)
        return Polynomial(json.loads(path.read_text()))


@pytest.fixture
def flavor() -> Iterator[PolynomialFlavor]:
    """The flavor, registered for the test only (the flavor table is process-wide)."""
    custom = PolynomialFlavor()
    fsregistry.register_flavor(custom)
    try:
        yield custom
    finally:
        fsregistry.unregister_flavor(custom.name)


def test_save_and_load_through_a_custom_flavor(flavor: PolynomialFlavor, tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path)
    uri = registry.save_model(Polynomial([1.0, 2.0, 3.0]), "poly", degree=2)

    meta = json.loads((tmp_path / "poly" / "1" / "meta.json").read_text())
    assert meta["flavor"] == "polynomial"
    assert meta["model"] == {
        "file": "model.bin",
        "format": "polynomial-json",
        "uses_pickle": False,
        "class": class_path(Polynomial([])),
        "options": {"degree": 2},
    }
    assert json.loads((tmp_path / "poly" / "1" / "model.bin").read_text()) == [1.0, 2.0, 3.0]

    loaded = CustomModelRegistry(tmp_path, allow_pickle=False).load_model(uri, device="cpu")
    assert loaded["flavor"] == "polynomial"
    assert loaded["model"].predict([0.0, 1.0, 2.0]) == [1.0, 6.0, 17.0]
    assert flavor.loads[-1].device == "cpu"


def test_custom_flavor_is_tried_before_the_builtin_ones(flavor: PolynomialFlavor) -> None:
    class Estimator:
        pass

    Estimator.__module__ = "sklearn.base"
    Estimator.__qualname__ = Estimator.__name__ = "BaseEstimator"
    Sub = type("Polynomial", (Estimator,), {"__module__": "mypkg"})  # would be sklearn otherwise

    assert detect_flavor(Sub()) is flavor
    assert detect_flavor(Estimator()).name == "sklearn"


def test_registering_the_same_name_replaces_it(flavor: PolynomialFlavor) -> None:
    newer = PolynomialFlavor()
    fsregistry.register_flavor(newer)
    assert get_flavor("polynomial") is newer
    assert detect_flavor(Polynomial([1.0])) is newer


def test_unregistered_flavor_cannot_load_what_it_saved(tmp_path: Path) -> None:
    custom = PolynomialFlavor()
    fsregistry.register_flavor(custom)
    registry = CustomModelRegistry(tmp_path)
    try:
        uri = registry.save_model(Polynomial([2.0]), "poly")
    finally:
        fsregistry.unregister_flavor(custom.name)

    assert detect_flavor(Polynomial([2.0])).name == "python"
    with pytest.raises(FlavorError, match=r"unknown flavor 'polynomial'.*register_flavor"):
        registry.load_model(uri)

    fsregistry.register_flavor(custom)
    try:
        assert registry.load_model(uri)["model"].predict([5.0]) == [2.0]
    finally:
        fsregistry.unregister_flavor(custom.name)


def test_builtin_flavors_cannot_be_unregistered() -> None:
    fsregistry.unregister_flavor("xgboost")
    assert get_flavor("xgboost").name == "xgboost"


def test_an_object_that_is_not_a_flavor_is_refused() -> None:
    with pytest.raises(FlavorError, match="Flavor protocol"):
        fsregistry.register_flavor(object())  # type: ignore[arg-type]


def test_a_custom_flavor_using_pickle_is_refused_like_a_builtin(tmp_path: Path) -> None:
    class PickledPolynomialFlavor(PolynomialFlavor):
        name = "pickled-polynomial"

        def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
            saved = super().save(model, path, **kwargs)
            return SavedModel(saved.format, uses_pickle=True, model_class=saved.model_class)

    custom = PickledPolynomialFlavor()
    fsregistry.register_flavor(custom)
    try:
        uri = CustomModelRegistry(tmp_path).save_model(Polynomial([1.0]), "poly")
        with pytest.raises(PickleRefusedError):
            CustomModelRegistry(tmp_path, allow_pickle=False).load_model(uri)
        assert custom.loads == [], "the flavor must not even be asked to load"
    finally:
        fsregistry.unregister_flavor(custom.name)


class JsonDocument(dict):  # type: ignore[type-arg]
    """A model that is a plain JSON document."""


class JsonDocumentFlavor(PythonFlavor):
    """A subclass of a built-in flavor that writes its own format: its ``save`` is the one
    called, not the stream writer it inherits."""

    name = "json-document"

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        return any(p.endswith(".JsonDocument") for p in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        path.write_text(json.dumps(model))
        return SavedModel("json-document", uses_pickle=False, model_class=class_path(model))

    def loads_with_pickle(self, saved: SavedModel) -> bool:
        return False

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        return JsonDocument(json.loads(path.read_text()))


def test_a_subclass_of_a_builtin_flavor_that_overrides_save_is_saved_by_it(tmp_path: Path) -> None:
    fsregistry.register_flavor(JsonDocumentFlavor())
    try:
        registry = CustomModelRegistry(tmp_path / "reg")
        registry.save_model(JsonDocument(a=1), "doc")
        assert registry.get_model_version("doc/1")["flavor"] == "json-document"
        assert json.loads((tmp_path / "reg" / "doc" / "1" / "model.bin").read_text()) == {"a": 1}
        refusing = CustomModelRegistry(tmp_path / "reg", allow_pickle=False)
        assert refusing.load_model("doc/1")["model"] == {"a": 1}
    finally:
        fsregistry.unregister_flavor("json-document")


class Broken:
    """A flavor that gets one thing wrong, chosen by ``fault``."""

    extra = ""
    packages: tuple[str, ...] = ()

    def __init__(self, fault: str) -> None:
        self.name = f"broken-{fault}"
        self.fault = fault

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        if self.fault == "detect raises":
            raise RuntimeError("detect blew up")
        return any(p.endswith(".Polynomial") for p in type_paths)

    def save(self, model: Any, path: Path, **kwargs: Any) -> Any:
        if self.fault == "writes nothing":
            return SavedModel("nothing", uses_pickle=False, model_class=class_path(model))
        path.write_text(json.dumps(model.coefficients))
        if self.fault == "returns a dict":
            return {"format": "polynomial-json"}
        return SavedModel("polynomial-json", uses_pickle=False, model_class=class_path(model), options={"f": len})

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        raise AssertionError("never saved")


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("writes nothing", "returned from save without writing model.bin"),
        ("returns a dict", "returned dict from save, not a SavedModel"),
        ("options not json", "returned options that are not JSON"),
        ("detect raises", "flavor 'broken-detect raises' failed to detect .*Polynomial: detect blew up"),
    ],
)
def test_a_custom_flavor_that_gets_it_wrong_is_a_flavor_error(tmp_path: Path, fault: str, message: str) -> None:
    fsregistry.register_flavor(Broken(fault))
    try:
        registry = CustomModelRegistry(tmp_path / "reg")
        with pytest.raises(FlavorError, match=message):
            registry.save_model(Polynomial([1.0]), "poly")
        assert registry.list_models() == [] and list((tmp_path / "reg" / ".staging").iterdir()) == []
    finally:
        fsregistry.unregister_flavor(f"broken-{fault}")


@pytest.mark.parametrize("name", [5, "", "  ", None])
def test_a_flavor_name_must_be_a_string(name: Any) -> None:
    flavor = PolynomialFlavor()
    flavor.name = name
    with pytest.raises(FlavorError, match="non-empty string"):
        fsregistry.register_flavor(flavor)


class ExtraOptionFlavor(PythonFlavor):
    """A subclass that overrides only ``stream_saver``, to take an option of its own."""

    name = "python-with-label"

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        return any(p.endswith(".JsonDocument") for p in type_paths)

    def stream_saver(self, model: Any, **kwargs: Any) -> Any:
        label = kwargs.pop("label", "")
        save_to = super().stream_saver(model, **kwargs)

        def labelled(stream: Any) -> SavedModel:
            saved = save_to(stream)
            return SavedModel(saved.format, saved.uses_pickle, saved.model_class, {"label": label})

        return labelled


def test_a_subclass_that_overrides_only_stream_saver_is_saved_by_it(tmp_path: Path) -> None:
    fsregistry.register_flavor(ExtraOptionFlavor())
    try:
        registry = CustomModelRegistry(tmp_path / "reg")
        registry.save_model(JsonDocument(a=1), "doc", label="v1")
        assert registry.get_model_version("doc/1")["flavor"] == "python-with-label"
        meta = json.loads((tmp_path / "reg" / "doc" / "1" / "meta.json").read_text())
        assert meta["model"]["options"] == {"label": "v1"}
        assert registry.load_model("doc/1")["model"] == {"a": 1}
    finally:
        fsregistry.unregister_flavor("python-with-label")
