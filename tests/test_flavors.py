"""The flavor contract: every supported model kind saves through the registry and loads in a
fresh Python process with identical outputs (bitwise for tree models), and a
``ModelPredictor`` there predicts what the framework alone gives (the flavor says how the
model predicts); plus detection, options, failure paths and the framework-specific details
each flavor promises."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flavor_cases import CASES, Case, numeric, reference_outputs, target, torch_inputs

from fsregistry import CustomModelRegistry, FlavorError, MissingDependencyError
from fsregistry.flavors import (
    Flavor,
    LoadOptions,
    SavedModel,
    _common,
    catboost,
    class_path,
    detect_flavor,
    get_flavor,
    lightgbm,
    pytorch,
    sklearn,
    xgboost,
)

# TorchScript works but is deprecated upstream (torch >= 2.9 says so on every call).
pytestmark = pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).resolve().parent / "helpers" / "flavor_cases.py"


# -- the contract: save here, load and predict in a fresh process, same outputs ------------


def load_in_fresh_process(root: Path, uri: str, case: Case, workdir: Path) -> dict[str, Any]:
    """Run ``flavor_cases.py`` in a new interpreter; return what it loaded and computed."""
    out = workdir / "outputs.pkl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(root), uri, case.name, str(out)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result: dict[str, Any] = pickle.loads(out.read_bytes())
    return result


def assert_identical(actual: Any, expected: Any, what: str) -> None:
    """Same dtype, shape and values, bit for bit (and same element types for object arrays)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert np.array_equal(actual, expected), f"{what}: values differ"
    if expected.dtype == object:
        assert [type(v) for v in actual.ravel()] == [type(v) for v in expected.ravel()], f"{what}: element types"


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_in_a_fresh_process(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    model, save_kwargs = case.build()
    registry = CustomModelRegistry(tmp_path / "registry")
    uri = registry.save_model(model, "model", **save_kwargs)
    expected = reference_outputs(case, model)

    result = load_in_fresh_process(tmp_path / "registry", uri, case, tmp_path)

    meta = json.loads((tmp_path / "registry" / "model" / "1" / "meta.json").read_text())
    assert (result["flavor"], result["format"]) == (case.flavor, case.format)
    assert meta["model"]["uses_pickle"] is case.uses_pickle
    if case.format != "torchscript":
        assert result["loaded_class"] == class_path(model)
    assert set(result["outputs"]) == set(expected)
    for key, value in expected.items():
        assert_identical(result["outputs"][key], value, f"{name}.{key}")
    predicted = case.predictions(model, case.inputs())
    assert set(result["predictions"]) == set(predicted), "a classifier gives labels too, a regressor only values"
    for key, value in predicted.items():
        if case.flavor == "torch":  # the predictor's softmax is numpy's, the reference torch's
            np.testing.assert_allclose(result["predictions"][key], value, rtol=1e-6, err_msg=f"{name}.{key}")
        else:
            assert_identical(result["predictions"][key], value, f"{name} predict: {key}")


def test_every_flavor_and_model_kind_is_covered() -> None:
    flavors = {case.flavor for case in CASES.values()}
    formats = {case.format for case in CASES.values()}
    assert flavors == {"xgboost", "lightgbm", "catboost", "torch", "sklearn", "python"}
    assert set(pytorch.FORMATS.values()) <= formats


# -- detection: type paths only, most specific first --------------------------------------


def fake(path: str, *bases: type) -> type:
    """A class whose type path is ``path`` (no framework imported)."""
    module, _, qualname = path.rpartition(".")
    return type(qualname, bases, {"__module__": module, "__qualname__": qualname})


BaseEstimator = fake("sklearn.base.BaseEstimator")
TorchModule = fake("torch.nn.modules.module.Module")


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (fake("xgboost.sklearn.XGBClassifier", fake("xgboost.sklearn.XGBModel", BaseEstimator)), "xgboost"),
        (fake("xgboost.core.Booster"), "xgboost"),
        (fake("lightgbm.sklearn.LGBMClassifier", fake("lightgbm.sklearn.LGBMModel", BaseEstimator)), "lightgbm"),
        (fake("lightgbm.basic.Booster"), "lightgbm"),
        (fake("catboost.core.CatBoostClassifier", fake("catboost.core.CatBoost")), "catboost"),
        (fake("torch.jit._script.RecursiveScriptModule", fake("torch.jit._script.ScriptModule", TorchModule)), "torch"),
        (fake("mypkg.Net", TorchModule), "torch"),
        (fake("sklearn.pipeline.Pipeline", BaseEstimator), "sklearn"),
        (fake("mypkg.MyEstimator", BaseEstimator), "sklearn"),
        (fake("mypkg.Booster"), "python"),
        (fake("xgboostish.core.Booster"), "python"),
        (dict, "python"),
    ],
)
def test_detection_uses_type_paths(cls: type, expected: str) -> None:
    assert detect_flavor(cls()).name == expected


def test_a_pipeline_holding_a_framework_model_is_sklearn() -> None:
    model, _ = CASES["sk-pipeline-with-xgboost"].build()
    assert detect_flavor(model).name == "sklearn"
    assert detect_flavor(model[-1]).name == "xgboost"


@pytest.mark.parametrize("flavor", [xgboost.FLAVOR, lightgbm.FLAVOR, catboost.FLAVOR, pytorch.FLAVOR, sklearn.FLAVOR])
def test_builtin_flavors_implement_the_protocol(flavor: Any) -> None:
    assert isinstance(flavor, Flavor)
    assert get_flavor(flavor.name) is flavor
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f"\n{flavor.extra} = [" in pyproject, "the pip extra named in errors must exist"
    assert flavor.packages


# -- options and failure paths ------------------------------------------------------------


def small_xgb() -> Any:
    model, _ = CASES["xgb-classifier-binary"].build()
    return model


def test_unknown_save_option_is_refused_and_nothing_is_published(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path)
    with pytest.raises(FlavorError, match="torch_format"):
        registry.save_model(small_xgb(), "model", torch_format="state_dict")
    assert registry.list_models() == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: __import__("xgboost").XGBClassifier(),
        lambda: __import__("lightgbm").LGBMClassifier(),
        lambda: __import__("catboost").CatBoostClassifier(),
    ],
)
def test_unfitted_models_are_refused(make: Any, tmp_path: Path) -> None:
    model = make()
    with pytest.raises(FlavorError, match="unfitted"):
        detect_flavor(model).save(model, tmp_path / "model.bin")


def hide(monkeypatch: pytest.MonkeyPatch, top: str) -> None:
    """Make ``import top`` (and its submodules) fail, as if the framework were not installed."""
    for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, top, None)


@pytest.mark.parametrize(
    ("case", "module", "extra"),
    [
        ("xgb-classifier-binary", "xgboost", "xgboost"),
        ("lgb-booster", "lightgbm", "lightgbm"),
        ("cb-core", "catboost", "catboost"),
        ("torch-state-dict", "torch", "torch"),
        ("sk-forest", "sklearn", "sklearn"),
        ("sk-pipeline-with-xgboost", "xgboost", "xgboost"),
    ],
)
def test_missing_framework_names_the_extra(
    case: str, module: str, extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, kwargs = CASES[case].build()
    registry = CustomModelRegistry(tmp_path)
    uri = registry.save_model(model, "model", **kwargs)
    hide(monkeypatch, module)
    with pytest.raises(MissingDependencyError, match=rf'pip install "fsregistry\[{extra}\]"'):
        registry.load_model(uri)


# -- XGBoost ------------------------------------------------------------------------------


def test_xgboost_wrapper_keeps_its_parameters_and_loads_on_the_requested_device(tmp_path: Path) -> None:
    model = small_xgb()
    saved = xgboost.FLAVOR.save(model, tmp_path / "model.bin")
    assert saved.options["params"]["missing"] == -1.0
    default = xgboost.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions())
    assert default.get_params()["missing"] == -1.0
    assert default.get_params()["device"] in (None, "cpu")
    chosen = xgboost.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions(device="cpu:0"))
    assert chosen.get_params()["device"] == "cpu:0"


def test_xgboost_gpu_trained_wrapper_loads_on_cpu(tmp_path: Path) -> None:
    model = small_xgb()
    saved = xgboost.FLAVOR.save(model, tmp_path / "model.bin")
    options = {**saved.options, "params": {**saved.options["params"], "device": "cuda"}}
    loaded = xgboost.FLAVOR.load(
        tmp_path / "model.bin", SavedModel(saved.format, False, saved.model_class, options), LoadOptions()
    )
    assert loaded.get_params()["device"] == "cpu"
    assert np.array_equal(loaded.predict_proba(numeric()), model.predict_proba(numeric()))


def test_xgboost_wrapper_class_must_be_an_xgboost_model(tmp_path: Path) -> None:
    saved = xgboost.FLAVOR.save(small_xgb(), tmp_path / "model.bin")
    for forged in ("os.PathLike", "sklearn.linear_model.LogisticRegression", "nowhere.Thing", "xgboost.Booster"):
        with pytest.raises(FlavorError, match="cannot rebuild class"):
            xgboost.FLAVOR.load(
                tmp_path / "model.bin",
                SavedModel(saved.format, False, forged, saved.options),
                LoadOptions(run_recorded_code=True),
            )


# -- LightGBM -----------------------------------------------------------------------------


def test_lightgbm_classifier_restores_fitted_attributes(tmp_path: Path) -> None:
    model, _ = CASES["lgb-classifier-categorical"].build()
    saved = lightgbm.FLAVOR.save(model, tmp_path / "model.bin")
    assert not saved.uses_pickle
    loaded = lightgbm.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions())
    assert type(loaded) is type(model)
    assert_identical(loaded.classes_, model.classes_, "classes_")
    assert list(loaded.feature_names_in_) == list(model.feature_names_in_)
    assert loaded.n_features_in_ == model.n_features_in_
    assert loaded.best_iteration_ == model.best_iteration_ > 0
    assert loaded.booster_.current_iteration() >= model.best_iteration_
    assert loaded.booster_.pandas_categorical == model.booster_.pandas_categorical
    assert loaded.get_params() == model.get_params()


def test_lightgbm_booster_keeps_every_iteration_and_its_best(tmp_path: Path) -> None:
    import lightgbm as lgb

    X = numeric()
    y = target(X)
    train, valid = lgb.Dataset(X[:180], y[:180]), lgb.Dataset(X[180:], y[180:])
    booster = lgb.train(
        {"verbose": -1, "num_threads": 1, "learning_rate": 0.5, "num_leaves": 7},
        train,
        num_boost_round=60,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(2, verbose=False)],
        keep_training_booster=True,
    )
    saved = lightgbm.FLAVOR.save(booster, tmp_path / "model.bin")
    loaded = lightgbm.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions())
    assert loaded.best_iteration == booster.best_iteration > 0
    assert loaded.current_iteration() == booster.current_iteration()
    assert np.array_equal(loaded.predict(X), booster.predict(X))
    assert np.array_equal(loaded.predict(X, num_iteration=-1), booster.predict(X, num_iteration=-1))


def squared_error(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    return y_pred - y_true, np.ones_like(y_pred)


def test_lightgbm_custom_objective_falls_back_to_pickle_with_a_warning(tmp_path: Path) -> None:
    import lightgbm as lgb

    X = numeric()
    model = lgb.LGBMRegressor(objective=squared_error, n_estimators=4, verbose=-1).fit(X, target(X))
    with pytest.warns(UserWarning, match="custom objective"):
        saved = lightgbm.FLAVOR.save(model, tmp_path / "model.bin")
    assert (saved.format, saved.uses_pickle) == ("cloudpickle", True)
    loaded = lightgbm.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions())
    assert np.array_equal(loaded.predict(X), model.predict(X))


# -- PyTorch ------------------------------------------------------------------------------


def mlp() -> Any:
    import torch_models

    return torch_models.trained_mlp()


def forward(model: Any) -> Any:
    import torch

    with torch.no_grad():
        return model.eval()(torch.as_tensor(torch_inputs()))


@pytest.mark.parametrize("fmt", ["state_dict", "module", "torchscript"])
def test_torch_model_on_a_gpu_is_saved_from_a_cpu_copy(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No GPU in CI: pretend the module lives on one, and check the copy-to-CPU path runs,
    leaves the caller's module alone, and writes a checkpoint that loads on the CPU."""
    import torch
    import torch_models

    model = mlp()
    params = list(model.parameters())
    monkeypatch.setattr(pytorch, "_off_cpu", lambda m: True)
    monkeypatch.setattr(pytorch, "_source_device", lambda m: "cuda:0")
    kwargs: dict[str, Any] = {"model_factory": torch_models.make_mlp} if fmt == "state_dict" else {}
    saved = pytorch.FLAVOR.save(model, tmp_path / "model.bin", torch_format=fmt, **kwargs)
    loaded = pytorch.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions(model_factory=torch_models.make_mlp))
    assert saved.options["saved_from_device"] == "cuda:0"
    assert all(a is b for a, b in zip(model.parameters(), params, strict=True)), "the caller's module was changed"
    assert model.training and {p.device.type for p in params} == {"cpu"}
    assert {p.device.type for p in loaded.parameters()} == {"cpu"}
    assert torch.equal(forward(loaded), forward(model))


@pytest.mark.parametrize("fmt", ["state_dict", "module", "torchscript"])
def test_torch_loads_onto_the_requested_device(fmt: str, tmp_path: Path) -> None:
    import torch_models

    kwargs: dict[str, Any] = {"model_factory": torch_models.make_mlp} if fmt == "state_dict" else {}
    saved = pytorch.FLAVOR.save(mlp(), tmp_path / "model.bin", torch_format=fmt, **kwargs)
    loaded = pytorch.FLAVOR.load(tmp_path / "model.bin", saved, LoadOptions(device="meta", run_recorded_code=True))
    assert {p.device.type for p in loaded.parameters()} == {"meta"}
    assert not loaded.training


def test_torch_default_formats(tmp_path: Path) -> None:
    import torch
    import torch_models

    scripted = torch.jit.script(mlp())
    assert pytorch.FLAVOR.save(scripted, tmp_path / "a").format == "torchscript"
    assert pytorch.FLAVOR.save(mlp(), tmp_path / "b", model_factory=torch_models.make_mlp).format == "torch-state-dict"
    assert pytorch.FLAVOR.save(mlp(), tmp_path / "c").format == "torch-module"


def test_torch_state_dict_with_an_unimportable_factory_needs_one_at_load(tmp_path: Path) -> None:
    import torch_models

    registry = CustomModelRegistry(tmp_path, allow_pickle=False)
    uri = registry.save_model(mlp(), "net", model_factory=lambda: torch_models.MLP())
    meta = json.loads((tmp_path / "net" / "1" / "meta.json").read_text())
    assert meta["model"]["options"]["factory"] is None
    with pytest.raises(FlavorError, match="model_factory"):
        registry.load_model(uri)
    loaded = registry.load_model(uri, model_factory=torch_models.MLP)["model"]
    assert not loaded.training
    assert np.array_equal(forward(loaded).numpy(), forward(mlp()).numpy())


def test_torch_state_dict_that_does_not_fit_the_factory(tmp_path: Path) -> None:
    import torch

    registry = CustomModelRegistry(tmp_path)
    uri = registry.save_model(mlp(), "net", model_factory=lambda: torch.nn.Linear(5, 3))
    with pytest.raises(FlavorError, match="does not fit"):
        registry.load_model(uri, model_factory=lambda: torch.nn.Linear(5, 3))
    with pytest.raises(FlavorError, match=r"not a torch\.nn\.Module"):
        registry.load_model(uri, model_factory=lambda: "not a module")


@pytest.mark.parametrize(
    "recorded",
    ["os:abort", "pdb:set_trace", "builtins:exit", "json:JSONDecoder", "flavor_cases:numeric", "nowhere:make"],
)
def test_torch_recorded_factory_is_refused_unless_a_module_class_or_user_function(
    recorded: str, tmp_path: Path
) -> None:
    import torch_models

    saved = pytorch.FLAVOR.save(mlp(), tmp_path / "model.bin", model_factory=torch_models.make_mlp)
    forged = SavedModel(saved.format, False, saved.model_class, {**saved.options, "factory": recorded})
    if recorded == "flavor_cases:numeric":  # a user function: called, and its result rejected
        with pytest.raises(FlavorError, match=r"not a torch\.nn\.Module"):
            pytorch.FLAVOR.load(tmp_path / "model.bin", forged, LoadOptions(run_recorded_code=True))
        return
    with pytest.raises(FlavorError, match="model_factory"):
        pytorch.FLAVOR.load(tmp_path / "model.bin", forged, LoadOptions(run_recorded_code=True))


def test_torch_option_mistakes_are_clear(tmp_path: Path) -> None:
    import torch
    import torch_models

    with pytest.raises(FlavorError, match="torch_format must be one of"):
        pytorch.FLAVOR.save(mlp(), tmp_path / "m", torch_format="onnx")
    with pytest.raises(FlavorError, match="only with torch_format='state_dict'"):
        pytorch.FLAVOR.save(mlp(), tmp_path / "m", torch_format="module", model_factory=torch_models.make_mlp)
    with pytest.raises(FlavorError, match="zero-argument callable"):
        pytorch.FLAVOR.save(mlp(), tmp_path / "m", model_factory="torch_models:make_mlp")

    with pytest.raises(FlavorError, match="torch_format='torchscript'"):
        pytorch.FLAVOR.save(torch.jit.script(mlp()), tmp_path / "m", torch_format="module")

    class Local(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return x

    with pytest.raises(FlavorError, match="cannot be imported in another process"):
        pytorch.FLAVOR.save(Local(), tmp_path / "m", torch_format="module")


def test_torch_import_path_of_factories() -> None:
    import torch_models

    assert pytorch.import_path(torch_models.make_mlp) == "torch_models:make_mlp"
    assert pytorch.import_path(torch_models.MLP) == "torch_models:MLP"
    assert pytorch.import_path(lambda: None) is None
    assert pytorch.import_path(test_torch_import_path_of_factories) == f"{__name__}:test_torch_import_path_of_factories"


# -- shared helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        np.array([0, 1, 2]),
        np.array([3, 7], dtype=np.int32),
        np.array([False, True]),
        np.array([0.5, 1.25]),
        np.array(["no", "yes"]),
        np.array(["draw", "loss", "win"], dtype=object),
        np.array([1, 2], dtype=np.uint8),
        np.array(["a", 1], dtype=object),
    ],
)
def test_class_labels_round_trip_exactly(values: np.ndarray) -> None:
    encoded = _common.encode_array(values)
    assert encoded is not None
    json.dumps(encoded, allow_nan=False)
    assert _common.same_array(_common.decode_array(json.loads(json.dumps(encoded))), values)


@pytest.mark.parametrize(
    "values",
    [
        np.array([Decimal("1.5"), Decimal("2")], dtype=object),
        np.array([np.datetime64("2024-01-01")]),
        np.zeros((2, 2)),
    ],
)
def test_labels_without_exact_json_form_are_reported(values: np.ndarray) -> None:
    assert _common.encode_array(values) is None


def test_params_json_keeps_non_finite_floats_and_drops_objects() -> None:
    class Est:
        def get_params(self, deep: bool = False) -> dict[str, Any]:
            return {"missing": float("nan"), "cap": float("inf"), "n": np.int64(3), "cb": print, "names": ["a"]}

    kept, dropped = _common.json_params(Est())
    assert dropped == ["cb"]
    json.dumps(kept, allow_nan=False)
    back = _common.from_json(kept)
    assert np.isnan(back["missing"]) and back["cap"] == float("inf") and back["n"] == 3 and back["names"] == ["a"]
