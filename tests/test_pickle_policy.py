"""Pickle is code execution: with pickle refused, native formats load, pickle formats raise
``PickleRefusedError``, and not one byte is unpickled.

"Nothing is unpickled" is proved with :class:`Tripwire`, an object that creates a file when
it is unpickled: the file must not exist after a refused load (and does exist after an
allowed one, so the tripwire is known to work).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flavor_cases import CASES, numeric, torch_inputs

from fsregistry import CustomModelRegistry, FlavorError, PickleRefusedError
from fsregistry.errors import InvalidArgumentError
from fsregistry.flavors import LoadOptions, pytorch
from fsregistry.storage.pickling import ENV_ALLOW_PICKLE

# TorchScript works but is deprecated upstream (torch >= 2.9 says so on every call).
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")


def _trip(path: str) -> str:
    Path(path).write_text("unpickled")
    return path


class Tripwire:
    """Unpickling this runs ``_trip``, which leaves a file behind."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_trip, (self.path,))


class TrippedModel:
    """A model (python flavor) carrying a tripwire."""

    def __init__(self, path: Path) -> None:
        self.tripwire = Tripwire(path)

    def predict(self, X: Any) -> Any:
        return np.zeros(len(X))


def refusing(root: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> CustomModelRegistry:
    """The same registry, reopened with pickle refused by argument or by environment."""
    if how == "argument":
        return CustomModelRegistry(root, allow_pickle=False)
    monkeypatch.setenv(ENV_ALLOW_PICKLE, "0")
    return CustomModelRegistry(root)


HOW = ["argument", "environment"]
NATIVE = [
    "xgb-classifier-categorical",
    "xgb-booster",
    "lgb-classifier-binary-strings",
    "lgb-booster",
    "cb-classifier-strings",
    "torch-state-dict",
    "torch-scripted",
]
PICKLED = ["sk-pipeline", "torch-module"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", NATIVE)
def test_native_formats_load_with_pickle_refused(
    name: str, how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, kwargs = CASES[name].build()
    uri = CustomModelRegistry(tmp_path).save_model(model, "model", **kwargs)
    # a state_dict's factory comes from the caller: a refusing registry imports no stored name
    factory = {"model_factory": kwargs["model_factory"]} if "model_factory" in kwargs else {}
    loaded = refusing(tmp_path, how, monkeypatch).load_model(uri, with_preprocessor=False, **factory)["model"]
    assert type(loaded).__name__ in (type(model).__name__, "RecursiveScriptModule")


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("name", PICKLED)
def test_pickle_formats_are_refused(name: str, how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, kwargs = CASES[name].build()
    uri = CustomModelRegistry(tmp_path).save_model(model, "model", **kwargs)
    with pytest.raises(PickleRefusedError, match="allow_pickle"):
        refusing(tmp_path, how, monkeypatch).load_model(uri)


@pytest.mark.parametrize("how", HOW)
def test_a_refused_load_unpickles_nothing(how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trace = tmp_path / "tripped"
    registry = CustomModelRegistry(tmp_path / "registry")
    model_uri = registry.save_model(TrippedModel(trace), "pickled-model")
    artifact_uri = registry.save_model(
        CASES["xgb-classifier-binary"].build()[0],
        "native-model",
        preprocessor_artifact={"preprocessor": Tripwire(trace)},
    )
    assert not trace.exists(), "saving must not unpickle"

    refused = refusing(tmp_path / "registry", how, monkeypatch)
    with pytest.raises(PickleRefusedError):
        refused.load_model(model_uri)
    with pytest.raises(PickleRefusedError, match="preprocessor"):
        refused.load_model(artifact_uri)
    assert not trace.exists(), "a refused load unpickled something"

    native = refused.load_model(artifact_uri, with_preprocessor=False)["model"]
    assert native.predict(numeric()).shape == (len(numeric()),)
    assert not trace.exists()

    monkeypatch.delenv(ENV_ALLOW_PICKLE, raising=False)
    CustomModelRegistry(tmp_path / "registry", allow_pickle=True).load_model(model_uri)
    assert trace.exists(), "control: the tripwire fires when pickle is allowed"


def test_state_dict_loading_never_runs_pickled_code(tmp_path: Path) -> None:
    """Even a tampered state_dict file (a pickle with a tripwire in it) runs nothing:
    ``weights_only=True`` refuses it."""
    import torch
    import torch_models

    trace = tmp_path / "tripped"
    saved = pytorch.FLAVOR.save(torch_models.trained_mlp(), tmp_path / "model.bin", model_factory=torch_models.make_mlp)
    assert not saved.uses_pickle
    torch.save({"body.0.weight": torch.zeros(1), "evil": Tripwire(trace)}, tmp_path / "model.bin")
    with pytest.raises(FlavorError, match="not a plain state_dict"):
        pytorch.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions(model_factory=torch_models.make_mlp))
    assert not trace.exists()


def test_torchscript_is_not_pickle(tmp_path: Path) -> None:
    import torch
    import torch_models

    model = torch_models.trained_mlp()
    saved = pytorch.FLAVOR.save(model, tmp_path / "model.bin", torch_format="torchscript")
    assert (saved.format, saved.uses_pickle) == ("torchscript", False)
    loaded = pytorch.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions())
    with torch.no_grad():
        assert torch.equal(loaded(torch.as_tensor(torch_inputs())), model.eval()(torch.as_tensor(torch_inputs())))


def test_environment_zero_is_the_only_refusal_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for value, allowed in (("0", False), ("false", False), ("1", True), ("yes", True)):
        monkeypatch.setenv(ENV_ALLOW_PICKLE, value)
        assert CustomModelRegistry(tmp_path).allow_pickle is allowed, value
    monkeypatch.setenv(ENV_ALLOW_PICKLE, "0")
    assert CustomModelRegistry(tmp_path, allow_pickle=True).allow_pickle is True
    assert os.environ[ENV_ALLOW_PICKLE] == "0"


@pytest.mark.parametrize("typo", ["nope", "flase", "ture", "disable", "2"])
def test_a_mistyped_environment_switch_is_refused_not_read_as_allow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, typo: str
) -> None:
    monkeypatch.setenv(ENV_ALLOW_PICKLE, typo)
    with pytest.raises(InvalidArgumentError, match=f"{ENV_ALLOW_PICKLE}='{typo}' is neither off"):
        CustomModelRegistry(tmp_path)
    assert CustomModelRegistry(tmp_path, allow_pickle=False).allow_pickle is False  # the argument decides
