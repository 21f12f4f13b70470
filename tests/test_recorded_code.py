"""``allow_pickle=False`` means that no name stored in a record is ever turned into code.

A ``meta.json`` edited on disk, or a bundle made elsewhere, can name any importable
function or class.  Each test plants a module on ``sys.path`` that leaves a file behind when
it is imported and when its function is called; with pickle refused the file must never
appear (and it does appear with pickle allowed, so the tripwire is known to work).
"""

from __future__ import annotations

import json
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch_models

import fsregistry
from fsregistry import CustomModelRegistry, ModelFactoryWarning, ModelPredictor, PickleRefusedError

X = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)


def _plant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> tuple[str, Path]:
    """A fresh module (unique name) that touches ``trace`` when imported; returns its name."""
    name = f"tripwire_{uuid.uuid4().hex[:12]}"
    trace = tmp_path / f"{name}.trace"
    folder = tmp_path / "planted"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(
        f"from pathlib import Path\nTRACE = Path({str(trace)!r})\nTRACE.write_text('imported')\n" + body
    )
    monkeypatch.syspath_prepend(str(folder))
    return name, trace


def _edit_meta(registry: CustomModelRegistry, name: str, version: int, change: Any) -> None:
    path = registry.root / name / str(version) / "meta.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


@pytest.fixture
def state_dict_version(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "registry"
    uri = CustomModelRegistry(root).save_model(
        torch_models.trained_mlp(), "net", model_factory=torch_models.make_mlp, tags={"output_kind": "logits"}
    )
    return root, uri


def _forge_factory(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    module, trace = _plant(
        tmp_path,
        monkeypatch,
        "import torch_models\ndef build():\n    TRACE.write_text('called')\n    return torch_models.make_mlp()\n",
    )

    def forge(meta: dict[str, Any]) -> None:
        meta["model"]["options"]["factory"] = f"{module}:build"

    _edit_meta(CustomModelRegistry(root), "net", 1, forge)
    return trace


def test_a_forged_factory_is_never_imported_with_pickle_refused(
    state_dict_version: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, uri = state_dict_version
    trace = _forge_factory(root, tmp_path, monkeypatch)
    with pytest.raises(PickleRefusedError, match="model_factory"):
        CustomModelRegistry(root, allow_pickle=False).load_model(uri)
    with pytest.raises(PickleRefusedError, match="model_factory"):
        ModelPredictor(CustomModelRegistry(root, allow_pickle=False)).load_model(uri)
    assert not trace.exists()

    CustomModelRegistry(root, allow_pickle=True).load_model(uri)  # control: documented to run it
    assert trace.read_text() == "called"


def test_the_callers_factory_loads_with_pickle_refused(state_dict_version: tuple[Path, str]) -> None:
    root, uri = state_dict_version
    registry = CustomModelRegistry(root, allow_pickle=False)
    model = registry.load_model(uri, model_factory=torch_models.make_mlp)["model"]
    expected = CustomModelRegistry(root).load_model(uri)["model"]
    for a, b in zip(model.state_dict().values(), expected.state_dict().values(), strict=True):
        assert (a == b).all()
    predictor = ModelPredictor(registry).load_model(uri, model_factory=torch_models.make_mlp)
    assert predictor.predict(X).shape[0] == len(X)


def test_a_registered_factory_loads_with_pickle_refused(state_dict_version: tuple[Path, str]) -> None:
    root, uri = state_dict_version
    registry = CustomModelRegistry(root, allow_pickle=False)
    assert fsregistry.register_model_factory(torch_models.make_mlp) == "torch_models:make_mlp"
    try:
        assert registry.load_model(uri)["model"] is not None
    finally:
        fsregistry.unregister_model_factory("torch_models:make_mlp")
    with pytest.raises(PickleRefusedError):
        registry.load_model(uri)


def test_registering_a_lambda_needs_the_recorded_name() -> None:
    with pytest.raises(fsregistry.FlavorError, match="name="):
        fsregistry.register_model_factory(lambda: torch_models.make_mlp())
    with pytest.raises(fsregistry.FlavorError, match="callable"):
        fsregistry.register_model_factory("torch_models:make_mlp")  # type: ignore[arg-type]


def test_a_forged_factory_is_not_used_even_when_the_caller_gives_one(
    state_dict_version: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's factory wins; the recorded name only makes a warning when it differs."""
    root, uri = state_dict_version
    trace = _forge_factory(root, tmp_path, monkeypatch)
    with pytest.warns(ModelFactoryWarning, match="saved with"):
        CustomModelRegistry(root, allow_pickle=False).load_model(uri, model_factory=torch_models.make_mlp)
    assert not trace.exists()


def test_the_same_factory_gives_no_warning(state_dict_version: tuple[Path, str]) -> None:
    root, uri = state_dict_version
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelFactoryWarning)
        CustomModelRegistry(root, allow_pickle=False).load_model(uri, model_factory=torch_models.make_mlp)
        CustomModelRegistry(root).load_model(uri, model_factory=lambda: torch_models.make_mlp())


@pytest.mark.parametrize("case", ["xgb-classifier-binary", "lgb-classifier-categorical", "cb-classifier-strings"])
def test_a_forged_class_outside_the_framework_is_never_imported_with_pickle_refused(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flavor_cases import CASES

    model, kwargs = CASES[case].build()
    root = tmp_path / "registry"
    uri = CustomModelRegistry(root).save_model(model, "m", **kwargs)
    module, trace = _plant(tmp_path, monkeypatch, "class Model:\n    pass\n")
    _edit_meta(CustomModelRegistry(root), "m", 1, lambda meta: meta["model"].__setitem__("class", f"{module}.Model"))
    with pytest.raises(PickleRefusedError, match="not part of"):
        CustomModelRegistry(root, allow_pickle=False).load_model(uri)
    assert not trace.exists()
    with pytest.raises(fsregistry.FlavorError, match="cannot rebuild class"):
        CustomModelRegistry(root, allow_pickle=True).load_model(uri)
    assert trace.exists(), "control: with pickle allowed the recorded module is imported"


def test_a_bundle_reports_its_recorded_factory_and_a_refusing_registry_never_runs_it(
    state_dict_version: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = state_dict_version
    trace = _forge_factory(root, tmp_path, monkeypatch)
    bundle = CustomModelRegistry(root).export_model("net/1", tmp_path / "net.fsr")
    target = CustomModelRegistry(tmp_path / "target", allow_pickle=False)
    (result,) = target.import_model(bundle)
    assert result.recorded_code == (f"model_factory {trace.stem}:build",)
    assert result.to_dict()["recorded_code"] == [f"model_factory {trace.stem}:build"]
    with pytest.raises(PickleRefusedError):
        target.load_model(result.uri)
    assert not trace.exists()
    assert trace.stem not in sys.modules


def test_cli_import_names_the_recorded_factory(
    state_dict_version: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fsregistry.cli import main

    root, _ = state_dict_version
    bundle = CustomModelRegistry(root).export_model("net/1", tmp_path / "net.fsr")
    assert main(["--root", str(tmp_path / "target"), "import", str(bundle)]) == 0
    assert "model_factory torch_models:make_mlp" in capsys.readouterr().out
