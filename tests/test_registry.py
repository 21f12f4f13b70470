"""The registry's API: save/load, identifiers, stages, aliases, tags, listing, delete."""

from __future__ import annotations

import logging
import pickle
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from toy_models import Doubler, Tripwire

import fsregistry
from fsregistry import (
    CustomModelRegistry,
    InvalidIdentifierError,
    InvalidMetadataError,
    InvalidNameError,
    InvalidStageError,
    ModelExistsError,
    ModelNotFoundError,
    ProtectedVersionError,
    RegistryError,
    VersionNotFoundError,
)

X = np.arange(12, dtype=float).reshape(4, 3)


def test_save_returns_uri_and_load_returns_seed_dict(model_registry: CustomModelRegistry) -> None:
    artifact = {"preprocessor": {"scale": 2}, "feature_names_in": ["a", "b", "c"], "feature_names_out": ["a", "b", "c"]}
    uri = model_registry.save_model(
        Doubler(3.0),
        "nba_win_predictor",
        preprocessor_artifact=artifact,
        metadata={"fold": 0, "accuracy": 0.85, "model_params": {"depth": 3}},
        tags={"framework": "XGBoost"},
    )
    assert uri == "models:/nba_win_predictor/1"
    data = model_registry.load_model(uri)
    np.testing.assert_array_equal(data["model"].predict(X), Doubler(3.0).predict(X))
    assert data["preprocessor_artifact"] == artifact
    assert data["metadata"] == {
        "params": {"fold": 0, "model_params": {"depth": 3}},
        "metrics": {"accuracy": 0.85},
        "tags": {"framework": "XGBoost"},
    }
    assert len(data["run_id"]) == 32
    assert (data["name"], data["version"], data["stage"], data["aliases"]) == ("nba_win_predictor", 1, None, [])
    assert data["flavor"] == "python"


def test_every_identifier_form_resolves(model_registry: CustomModelRegistry) -> None:
    for factor in (1.0, 2.0, 3.0):
        model_registry.save_model(Doubler(factor), "m")
    model_registry.transition_model_stage("m/2", "production")
    model_registry.transition_model_stage("models:/m/1", "Staging")
    model_registry.set_alias("m", "champion", 2)
    run_id = model_registry.get_model_version("m/3")["run_id"]
    expected = {
        "models:/m/1": 1,
        "models:/m/Production": 2,
        "models:/m/PRODUCTION": 2,
        "models:/m/staging": 1,
        "models:/m/latest": 3,
        "models:/m@champion": 2,
        f"runs:/{run_id}/model": 3,
        "m/3": 3,
        "m/Production": 2,
        "m@champion": 2,
        "m/latest": 3,
    }
    for ident, version in expected.items():
        assert model_registry.load_model(ident)["version"] == version, ident
    assert model_registry.get_model_by_stage("m", "production")["version"] == 2


@pytest.mark.parametrize(
    "ident",
    [
        "",
        "models:/",
        "models:/m/0",
        "models:/m/1/2",
        "models:m/1",
        "runs:/xyz/model",
        "m/²",
        "m/notastage",
        "../m/1",
        "/abs/1",
        "m@",
        "m@latest",
        42,
    ],
)
def test_malformed_identifiers_name_the_accepted_forms(model_registry: CustomModelRegistry, ident: object) -> None:
    with pytest.raises(InvalidIdentifierError, match="accepted forms") as info:
        model_registry.load_model(ident)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_a_bare_model_name_is_not_a_version(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "m")
    for ident in ("m", "models:/m"):
        with pytest.raises(InvalidIdentifierError, match="m/latest") as info:
            model_registry.load_model(ident)
        assert str(info.value).startswith("'models:/m' names the model, not a version")  # the text, no ModelRef(...)


def test_not_found_errors_are_lookup_errors(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    with pytest.raises(ModelNotFoundError):
        model_registry.load_model("missing/1")
    model_registry.save_model(doubler, "m")
    for ident in ("m/7", "m/Production", "m@nope", "runs:/0123456789abcdef/model"):
        with pytest.raises(LookupError):
            model_registry.load_model(ident)
    with pytest.raises(VersionNotFoundError, match="no version in stage Production"):
        model_registry.load_model("models:/m/Production")


def test_promotion_archives_the_previous_holder(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    for _ in range(3):
        model_registry.save_model(doubler, "m")
    model_registry.transition_model_stage("m/1", "Production")
    info = model_registry.transition_model_stage("m/2", "Production")
    assert info["stage"] == "Production"
    assert model_registry.get_model_version("m/1")["stage"] == "Archived"
    model_registry.transition_model_stage("m/3", "Production", archive_existing=False)
    assert model_registry.get_model_version("m/2")["stage"] is None
    stages = [(v["version"], v["stage"]) for v in model_registry.list_versions("m")]
    assert stages == [(3, "Production"), (2, None), (1, "Archived")]
    history = model_registry.get_model_version("m/2")["stage_history"]
    assert [(h["from"], h["stage"]) for h in history] == [(None, "Production"), ("Production", None)]


def test_a_version_moves_from_staging_to_production(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "m")
    model_registry.transition_model_stage("m/1", "Staging")
    model_registry.transition_model_stage("m/1", "Production")
    assert model_registry.get_model("m")["stages"] == {"Production": 1}
    with pytest.raises(VersionNotFoundError):
        model_registry.load_model("m/Staging")
    model_registry.transition_model_stage("m/1", "Development")
    assert model_registry.get_model_version("m/1")["stage"] is None


def test_archived_resolves_to_the_most_recently_archived(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    for _ in range(3):
        model_registry.save_model(doubler, "m")
    model_registry.transition_model_stage("m/3", "Archived")
    model_registry.transition_model_stage("m/1", "Archived")
    assert model_registry.load_model("m/archived")["version"] == 1


def test_unknown_stage_is_refused(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "m")
    with pytest.raises(InvalidStageError, match="unknown stage"):
        model_registry.transition_model_stage("m/1", "Prod")


def test_aliases_move_and_delete(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    for _ in range(2):
        model_registry.save_model(doubler, "m")
    model_registry.set_alias("m", "champion", 1)
    model_registry.set_alias("m", "shadow", "2")
    model_registry.set_alias("m", "champion", 2)
    assert model_registry.get_model_version("m/2")["aliases"] == ["champion", "shadow"]
    assert model_registry.get_model_version("m/1")["aliases"] == []
    model_registry.delete_alias("m", "shadow")
    assert model_registry.get_model("m")["aliases"] == {"champion": 2}
    with pytest.raises(VersionNotFoundError):
        model_registry.delete_alias("m", "shadow")
    with pytest.raises(InvalidNameError):
        model_registry.set_alias("m", "production", 1)
    with pytest.raises(VersionNotFoundError):
        model_registry.set_alias("m", "ghost", 9)


def test_save_can_set_stage_and_aliases(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "m", stage="Production", aliases=["champion"])
    model_registry.save_model(doubler, "m", stage="Production", aliases=["champion"])
    assert model_registry.get_model("m")["stages"] == {"Production": 2}
    assert model_registry.get_model_version("m/1")["stage"] == "Archived"
    assert model_registry.load_model("m@champion")["version"] == 2


def test_tags_and_descriptions_on_models_and_versions(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "a", tags={"team": "x", "season": 2024})
    model_registry.save_model(doubler, "b", tags={"team": "y"})
    model_registry.set_tag("a", "owner", "ana")
    model_registry.set_tag("models:/b/1", "reviewed", True)
    model_registry.set_description("a", "win predictor")
    model_registry.set_description("a/1", "first try")
    assert model_registry.get_model("a")["tags"] == {"owner": "ana"}
    assert model_registry.get_model("a")["description"] == "win predictor"
    version = model_registry.get_model_version("a/1")
    assert version["metadata"]["tags"] == {"team": "x", "season": "2024"}
    assert version["description"] == "first try"
    assert [m["name"] for m in model_registry.list_models(tags={"team": "y"})] == ["b"]
    assert [m["name"] for m in model_registry.list_models(tags={"owner": "ana"})] == ["a"]
    assert [m["name"] for m in model_registry.list_models(tags={"season": "2024"})] == ["a"]
    assert model_registry.list_models(tags={"team": "z"}) == []
    assert [v["version"] for v in model_registry.list_models("b", tags={"reviewed": "True"})] == [1]
    model_registry.delete_tag("b/1", "reviewed")
    assert model_registry.list_models("b", tags={"reviewed": "True"}) == []


def test_list_models_summaries(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    assert model_registry.list_models() == []
    model_registry.save_model(doubler, "b")
    model_registry.save_model(doubler, "a")
    model_registry.save_model(doubler, "a", metrics={"auc": 0.9})
    model_registry.transition_model_stage("a/2", "Production")
    models = model_registry.list_models()
    assert [m["name"] for m in models] == ["a", "b"]
    assert models[0]["versions"] == 2 and models[0]["latest_version"] == 2
    assert models[0]["stages"] == {"Production": 2}
    versions = model_registry.list_models("a")
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["metrics"] == {"auc": 0.9} and versions[0]["size"] > 0
    assert versions[0]["uri"] == "models:/a/2"


def test_delete_never_reuses_numbers(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    for _ in range(3):
        model_registry.save_model(doubler, "m")
    model_registry.delete_model("m/3")
    assert model_registry.save_model(doubler, "m") == "models:/m/4"
    model_registry.delete_model("models:/m/4")
    model_registry.delete_model("m/1")
    assert [v["version"] for v in model_registry.list_versions("m")] == [2]
    assert model_registry.load_model("m/latest")["version"] == 2
    model_registry.delete_model("m")
    assert model_registry.list_models() == []
    assert not any(p.name.isdigit() for p in (model_registry.root / "m").iterdir())
    assert model_registry.save_model(doubler, "m") == "models:/m/5"
    assert list((model_registry.root / ".staging").iterdir()) == []


def test_delete_protects_staged_and_aliased_versions(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "m", stage="Production")
    model_registry.save_model(doubler, "m", aliases=["shadow"])
    for ident in ("m/1", "m/2", "m"):
        with pytest.raises(ProtectedVersionError):
            model_registry.delete_model(ident)
    assert len(model_registry.list_versions("m")) == 2
    model_registry.delete_model("m/1", force=True)
    assert model_registry.get_model("m")["stages"] == {}


def test_run_ids_are_unique_and_removed_with_their_version(
    model_registry: CustomModelRegistry, doubler: Doubler
) -> None:
    model_registry.save_model(doubler, "m")
    model_registry.save_model(doubler, "m")
    run1 = model_registry.get_model_version("m/1")["run_id"]
    assert run1 != model_registry.get_model_version("m/2")["run_id"]
    model_registry.delete_model("m/1")
    with pytest.raises(ModelNotFoundError):
        model_registry.load_model(f"runs:/{run1}/model")


def test_metadata_lookup_does_not_load_the_model(model_registry: CustomModelRegistry, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    model_registry.save_model(Tripwire(marker), "trap", input_example=pd.DataFrame({"a": [1], "b": ["x"]}))
    info = model_registry.get_model_version("trap/1")
    assert info["signature"].column_names == ["a", "b"]
    assert list(info["input_example"].columns) == ["a", "b"]
    assert "model.bin" in info["files"] and info["files"]["model.bin"]["size"] > 0
    model_registry.list_models()
    model_registry.list_versions("trap")
    assert not marker.exists()
    model_registry.load_model("trap/1")
    assert marker.exists()


def test_signature_inferred_from_input_example(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "n": [1, 2], "team": ["a", "b"]})
    model_registry.save_model(doubler, "m", input_example=frame)
    data = model_registry.load_model("m/1")
    assert [(c.name, c.kind) for c in data["signature"].inputs] == [
        ("x", "float"),
        ("n", "integer"),
        ("team", "string"),
    ]
    pd.testing.assert_frame_equal(data["input_example"], frame, check_dtype=False)
    explicit = fsregistry.infer_signature(frame[["x"]])
    model_registry.save_model(doubler, "m", signature=explicit, input_example=frame)
    assert model_registry.load_model("m/2")["signature"].column_names == ["x"]


def test_bad_metadata_is_refused_before_anything_is_written(
    model_registry: CustomModelRegistry, doubler: Doubler
) -> None:
    with pytest.raises(InvalidMetadataError, match=r"metadata\.bad"):
        model_registry.save_model(doubler, "m", metadata={"bad": object()})
    with pytest.raises(InvalidMetadataError, match="not a number"):
        model_registry.save_model(doubler, "m", metrics={"auc": "high"})
    with pytest.raises(InvalidNameError):
        model_registry.save_model(doubler, "m", tags={"": 1})
    assert not (model_registry.root / "m").exists()


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a/b",
        "a\\b",
        "..",
        "../evil",
        "/abs",
        ".hidden",
        "x" * 129,
        "a..b",
        "nul",
        "trailing.",
        "sp ace",
        "a@b",
        None,
        7,
    ],
)
def test_bad_names_are_refused_before_any_io(tmp_path: Path, doubler: Doubler, name: object) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidNameError):
        registry.save_model(doubler, name)  # type: ignore[arg-type]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_names_differing_only_by_case_are_refused(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "Model")
    with pytest.raises(ModelExistsError, match="differs only by case"):
        model_registry.save_model(doubler, "model")
    assert model_registry.save_model(doubler, "Model") == "models:/Model/2"


def test_seed_constructor_forms(tmp_path: Path, doubler: Doubler, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[BaseException, str]] = []

    class Handler:
        def handle_error(self, exc: BaseException, context: str) -> None:
            calls.append((exc, context))

    logger = logging.getLogger("app")
    by_dict = CustomModelRegistry({"model_registry": {"root": str(tmp_path / "r1")}}, logger, Handler())
    by_object = CustomModelRegistry(types.SimpleNamespace(registry_root=tmp_path / "r2"), logger, None)
    monkeypatch.setenv("FSREGISTRY_ROOT", str(tmp_path / "r3"))
    by_env = CustomModelRegistry()
    assert [r.root for r in (by_dict, by_object, by_env)] == [tmp_path / "r1", tmp_path / "r2", tmp_path / "r3"]
    assert by_dict.logger is logger
    with pytest.raises(ModelNotFoundError):
        by_dict.load_model("nothing/1")
    assert len(calls) == 1 and "load_model" in calls[0][1]
    monkeypatch.delenv("FSREGISTRY_ROOT")
    with pytest.raises(fsregistry.InvalidArgumentError, match="FSREGISTRY_ROOT"):
        CustomModelRegistry()


def test_two_registries_in_one_process_are_independent(tmp_path: Path, doubler: Doubler) -> None:
    a, b = CustomModelRegistry(tmp_path / "a"), CustomModelRegistry(tmp_path / "b")
    a.save_model(doubler, "m")
    assert b.list_models() == []
    same = CustomModelRegistry(tmp_path / "a")
    assert same.save_model(doubler, "m") == "models:/m/2"


def test_errors_share_one_root_and_pickle_with_context() -> None:
    for name in fsregistry.__all__:
        obj = getattr(fsregistry, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and not issubclass(obj, Warning):
            assert issubclass(obj, RegistryError), name
    err = VersionNotFoundError("gone", name="m", version=3, path="/x")
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), str(copy), copy.name, copy.version, copy.path) == (VersionNotFoundError, "gone", "m", 3, "/x")
    assert issubclass(fsregistry.LockTimeoutError, TimeoutError)


def test_registry_root_marker_and_layout(model_registry: CustomModelRegistry, doubler: Doubler) -> None:
    model_registry.save_model(doubler, "m", preprocessor_artifact={"p": 1})
    version_dir = model_registry.root / "m" / "1"
    assert sorted(p.name for p in version_dir.iterdir()) == ["meta.json", "model.bin", "preprocessor.pkl"]
    assert (model_registry.root / ".fsregistry.json").exists()
    assert (model_registry.root / ".lock").exists()


def test_importing_fsregistry_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, fsregistry; heavy = [m for m in ('torch','xgboost','lightgbm','catboost','sklearn') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# -- arguments a careful caller might get wrong ------------------------------------------------


def test_flags_must_be_booleans(model_registry: fsregistry.CustomModelRegistry, tmp_path: Path) -> None:
    """``force="no"`` or ``allow_pickle="False"`` are truthy strings: refused, never obeyed."""
    model_registry.save_model(Doubler(), "m", stage="Production")
    with pytest.raises(fsregistry.InvalidArgumentError, match="force must be True or False"):
        model_registry.delete_model("m/1", force="no")  # type: ignore[arg-type]
    with pytest.raises(fsregistry.InvalidArgumentError, match="verify"):
        model_registry.load_model("m/1", verify="yes")  # type: ignore[arg-type]
    with pytest.raises(fsregistry.InvalidArgumentError, match="archive_existing"):
        model_registry.transition_model_stage("m/1", "Staging", archive_existing=0)  # type: ignore[arg-type]
    with pytest.raises(fsregistry.InvalidArgumentError, match="allow_pickle"):
        fsregistry.CustomModelRegistry(tmp_path / "r", allow_pickle="False")  # type: ignore[arg-type]
    with pytest.raises(fsregistry.InvalidArgumentError, match="lock_timeout"):
        fsregistry.CustomModelRegistry(tmp_path / "r", lock_timeout="soon")  # type: ignore[arg-type]
    assert model_registry.load_model("m/1", verify=np.bool_(False))["version"] == 1
    assert model_registry.list_versions("m")[0]["stage"] == "Production"  # nothing was deleted


def test_one_alias_may_be_given_as_a_string(model_registry: fsregistry.CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m", aliases="champion")
    assert model_registry.get_model("m")["aliases"] == {"champion": 1}
    with pytest.raises(fsregistry.InvalidArgumentError, match="aliases"):
        model_registry.save_model(Doubler(), "m", aliases=5)  # type: ignore[arg-type]


def test_nothing_to_save_and_none_tags_are_refused(model_registry: fsregistry.CustomModelRegistry) -> None:
    with pytest.raises(fsregistry.InvalidArgumentError, match="model is None"):
        model_registry.save_model(None, "m")
    assert model_registry.list_models() == []
    model_registry.save_model(Doubler(), "m")
    with pytest.raises(fsregistry.InvalidNameError, match="delete_tag"):
        model_registry.set_tag("m/1", "owner", None)
    with pytest.raises(fsregistry.InvalidNameError, match="delete_tag"):
        model_registry.save_model(Doubler(), "m", tags={"owner": None})


def test_uri_schemes_are_case_insensitive(model_registry: fsregistry.CustomModelRegistry) -> None:
    run_id = model_registry.save_model(Doubler(), "m") and model_registry.get_model_version("m/1")["run_id"]
    assert model_registry.load_model("MODELS:/m/1")["version"] == 1
    assert model_registry.load_model(f"Runs:/{run_id}/model")["version"] == 1


def test_an_unverified_load_of_a_corrupt_file_says_it_is_corrupt(
    model_registry: fsregistry.CustomModelRegistry,
) -> None:
    """With ``verify=False`` the hash is checked only when the load fails, so a corrupt
    pickle is reported as corrupt, not as a missing module or a bad header."""
    model_registry.save_model(Doubler(), "m")
    path = model_registry.layout.version_dir("m", 1) / "model.bin"
    path.write_bytes(path.read_bytes()[:-7] + b"garbage")
    with pytest.raises(fsregistry.IntegrityError, match=r"model\.bin"):
        model_registry.load_model("m/1", verify=False)


def test_a_removed_run_map_folder_is_recreated(model_registry: fsregistry.CustomModelRegistry) -> None:
    """``.runs`` is a cache: removing it loses nothing, and saves neither fail nor skip
    the index update."""
    import shutil

    model_registry.save_model(Doubler(), "m")
    shutil.rmtree(model_registry.layout.runs)
    model_registry.save_model(Doubler(), "m")
    assert model_registry.load_model("m/latest")["version"] == 2
    run_id = model_registry.get_model_version("m/2")["run_id"]
    assert (model_registry.layout.runs / f"{run_id}.json").exists()
    assert model_registry.load_model(f"runs:/{run_id}/model")["version"] == 2


def test_a_misspelt_keyword_to_save_model_is_a_type_error_naming_it(tmp_path: Path) -> None:
    from fsregistry import FlavorError, UnexpectedArgumentError

    registry = CustomModelRegistry(tmp_path / "reg")
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'tagz'") as info:
        registry.save_model(Doubler(), "m", tagz={"team": "a"})
    assert isinstance(info.value, UnexpectedArgumentError) and isinstance(info.value, FlavorError)
    assert registry.list_models() == []
