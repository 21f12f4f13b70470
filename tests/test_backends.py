"""The registry's behaviour, once, on both backends: a folder and a prefix in a bucket of a
real S3-compatible server (``backend_root`` in conftest.py).  Each test here runs twice;
what only one backend has (file modes, requests, leftovers in a bucket) is tested in the
backend's own files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import subprocess_env
from predictor_data import FEATURES, games, trained
from toy_models import Doubler

from fsregistry import (
    CustomModelRegistry,
    InvalidNameError,
    ModelExistsError,
    ModelNotFoundError,
    ModelPredictor,
    ProtectedVersionError,
    VersionNotFoundError,
)
from fsregistry.cli import EXIT_OK, main
from fsregistry.ui import pages


@pytest.fixture
def registry(backend_root: str) -> CustomModelRegistry:
    return CustomModelRegistry(backend_root)


def test_the_seed_flow_save_promote_load_predict(registry: CustomModelRegistry) -> None:
    train, artifact, model = trained()
    uri = registry.save_model(model, "games", preprocessor_artifact=artifact, input_example=train.head(5))
    assert uri == "models:/games/1"
    registry.transition_model_stage(uri, "Production")
    loaded = registry.get_model_by_stage("games", "Production")
    assert loaded["version"] == 1 and loaded["stage"] == "Production"
    assert loaded["preprocessor_artifact"].keys() == artifact.keys()
    predictor = ModelPredictor(registry=registry)
    predictor.load_model("models:/games/Production")
    rows = games(50, seed=3)
    expected = model.predict_proba(artifact["preprocessor"].transform(rows[FEATURES]))[:, 1]
    np.testing.assert_allclose(predictor.predict(rows), expected, rtol=1e-6)
    assert predictor.get_model_info()["version"] == 1


def test_stages_displace_and_archive(registry: CustomModelRegistry) -> None:
    for _ in range(3):
        registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/1", "Production")
    registry.transition_model_stage("m/2", "Production")
    registry.transition_model_stage("m/3", "Staging")
    stages = {v["version"]: v["stage"] for v in registry.list_versions("m")}
    assert stages == {1: "Archived", 2: "Production", 3: "Staging"}
    assert registry.resolve("models:/m/Archived") == ("m", 1)
    registry.transition_model_stage("m/3", "Production", archive_existing=False)
    stages = {v["version"]: v["stage"] for v in registry.list_versions("m")}
    assert stages == {1: "Archived", 2: None, 3: "Production"}
    history = registry.get_model_version("m/2")["stage_history"]
    assert [h["stage"] for h in history] == ["Production", None]
    assert history[0]["by"]["user"]
    assert registry.get_model("m")["stages"] == {"Production": 3}


def test_a_save_can_take_a_stage_and_aliases(registry: CustomModelRegistry) -> None:
    registry.save_model(Doubler(), "m", stage="Production", aliases=["champion"])
    registry.save_model(Doubler(), "m", stage="Production", aliases=["champion", "new"])
    summary = registry.get_model("m")
    assert summary["stages"] == {"Production": 2}
    assert summary["aliases"] == {"champion": 2, "new": 2}
    assert registry.get_model_version("m/1")["stage"] == "Archived"
    assert registry.get_model_version("m/1")["aliases"] == []


def test_aliases(registry: CustomModelRegistry) -> None:
    registry.save_model(Doubler(), "m")
    registry.save_model(Doubler(), "m")
    registry.set_alias("m", "champion", 1)
    assert registry.resolve("models:/m@champion") == ("m", 1)
    registry.set_alias("m", "champion", "latest")
    assert registry.resolve("m@champion") == ("m", 2)
    assert registry.get_model_version("m/1")["aliases"] == []
    assert [e["action"] for e in registry.get_model_version("m/1")["alias_history"]] == ["set", "removed"]
    registry.delete_alias("m", "champion")
    with pytest.raises(VersionNotFoundError):
        registry.resolve("m@champion")
    with pytest.raises(VersionNotFoundError):
        registry.delete_alias("m", "champion")


def test_an_alias_differing_only_by_case_from_another_is_refused(registry: CustomModelRegistry) -> None:
    registry.save_model(Doubler(), "m", aliases="champion")
    registry.save_model(Doubler(), "m")
    for attempt in (
        lambda: registry.set_alias("m", "Champion", 2),
        lambda: registry.save_model(Doubler(), "m", aliases=["CHAMPION"]),
    ):
        with pytest.raises(InvalidNameError, match="differs only by case from m@champion"):
            attempt()
    assert registry.get_model("m")["aliases"] == {"champion": 1}
    assert [v["version"] for v in registry.list_versions("m")] == [2, 1]  # the refused save published nothing
    registry.set_alias("m", "champion", 2)  # the alias itself moves as before
    registry.save_model(Doubler(), "other", aliases="Champion")  # another model's aliases are its own
    assert registry.resolve("other@Champion") == ("other", 1)


def test_aliases_differing_only_by_case_are_refused_within_one_call_and_across_writers(
    registry: CustomModelRegistry, backend_root: str
) -> None:
    with pytest.raises(InvalidNameError, match="differs only by case"):
        registry.save_model(Doubler(), "new", aliases=["champion", "Champion"])  # a new model
    assert registry.list_models() == []
    registry.save_model(Doubler(), "m")
    with pytest.raises(InvalidNameError, match="differs only by case"):
        registry.save_model(Doubler(), "m", aliases=["best", "BEST"])
    other = CustomModelRegistry(backend_root)  # another writer, with nothing read before
    other.set_alias("m", "champion", 1)
    with pytest.raises(InvalidNameError, match="differs only by case from m@champion"):
        registry.save_model(Doubler(), "m", aliases=["Champion"])  # checked where the alias is claimed
    assert registry.get_model("m")["aliases"] == {"champion": 1}
    assert [v["version"] for v in registry.list_versions("m")] == [1]


def test_tags_descriptions_and_listing_filters(registry: CustomModelRegistry) -> None:
    registry.save_model(Doubler(), "m", tags={"team": "a"}, metadata={"auc": 0.9, "depth": 3})
    registry.save_model(Doubler(), "m", tags={"team": "b"})
    registry.save_model(Doubler(), "other")
    registry.set_tag("m", "owner", "ops")
    registry.set_tag("m/2", "checked", "yes")
    registry.delete_tag("m/1", "team")
    registry.set_description("m/2", "the second")
    registry.set_description("m", "a model")
    assert [v["version"] for v in registry.list_versions("m", tags={"checked": "yes"})] == [2]
    assert registry.list_versions("m")[1]["tags"] == {}
    info = registry.get_model_version("m/1")
    assert info["metadata"]["metrics"] == {"auc": 0.9} and info["metadata"]["params"] == {"depth": 3}
    assert registry.get_model_version("m/2")["description"] == "the second"
    models = {m["name"]: m for m in registry.list_models()}
    assert models["m"]["description"] == "a model" and models["m"]["tags"] == {"owner": "ops"}
    assert [m["name"] for m in registry.list_models(tags={"owner": "ops"})] == ["m"]
    assert registry.list_models("m")[0]["version"] == 2


def test_identifiers_resolve_the_same(registry: CustomModelRegistry) -> None:
    uri = registry.save_model(Doubler(), "m")
    run_id = registry.get_model_version(uri)["run_id"]
    assert registry.resolve(f"runs:/{run_id}/model") == ("m", 1)
    assert registry.resolve("m/latest") == ("m", 1)
    with pytest.raises(ModelNotFoundError):
        registry.resolve("nobody/1")
    with pytest.raises(VersionNotFoundError):
        registry.resolve("m/7")
    with pytest.raises(VersionNotFoundError):
        registry.resolve("m/Staging")


def test_delete_never_reuses_numbers_and_protects_holders(registry: CustomModelRegistry) -> None:
    for _ in range(3):
        registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/3", "Production")
    with pytest.raises(ProtectedVersionError):
        registry.delete_model("m/3")
    registry.delete_model("m/3", force=True)
    registry.delete_model("m/2")
    with pytest.raises(VersionNotFoundError):
        registry.load_model("m/2")
    assert registry.save_model(Doubler(), "m") == "models:/m/4"
    registry.delete_model("m", force=True)
    assert registry.list_versions("m") == []
    assert registry.save_model(Doubler(), "m") == "models:/m/5"
    assert registry.check().ok


def test_case_only_clash_is_refused(registry: CustomModelRegistry) -> None:
    registry.save_model(Doubler(), "Model")
    with pytest.raises(ModelExistsError):
        registry.save_model(Doubler(), "model")


def test_prune_keeps_protected_and_latest(registry: CustomModelRegistry) -> None:
    for _ in range(5):
        registry.save_model(Doubler(), "m")
    registry.set_alias("m", "keep", 1)
    deleted = registry.prune("m", keep_last=2)
    assert sorted(d["version"] for d in deleted) == [2, 3]
    assert [v["version"] for v in registry.list_versions("m")] == [5, 4, 1]


def test_bundles_travel_between_backends(registry: CustomModelRegistry, tmp_path, s3_root: str) -> None:
    """Export from this backend, import into the other (a folder for s3, s3 for a folder)."""
    registry.save_model(Doubler(), "m", preprocessor_artifact=[1, 2], tags={"a": "b"})
    registry.save_model(Doubler(), "m", stage="Production")
    registry.set_alias("m", "old", 1)
    registry.delete_alias("m", "old")
    registry.set_alias("m", "champ", 2)
    bundle = registry.export_model("m", tmp_path / "m.tar.gz")
    other_root = str(tmp_path / "other") if str(registry.root).startswith("s3://") else s3_root
    other = CustomModelRegistry(other_root)
    imported = other.import_model(bundle, keep_stages=True)
    assert [i.version for i in imported] == [1, 2]
    loaded = other.load_model("m/Production")
    assert loaded["version"] == 2 and loaded["model"].predict([[2]])[0] == 4
    assert other.load_model("m/1")["preprocessor_artifact"] == [1, 2]
    assert other.get_model_version("m/1")["metadata"]["tags"] == {"a": "b"}
    # the histories start again in the registry imported into (both backends alike); the
    # exporting registry's are kept in the version's source
    first, second = other.get_model_version("m/1"), other.get_model_version("m/2")
    assert first["alias_history"] == [] and [e["stage"] for e in first["stage_history"]] == []
    assert [e["action"] for e in first["source"]["original_alias_history"]] == ["set", "removed"]
    assert [(e["alias"], e["action"]) for e in second["alias_history"]] == [("champ", "set")]
    assert [e["stage"] for e in second["stage_history"]] == ["Production"]
    assert other.check().ok


def test_cli_on_the_root(registry: CustomModelRegistry, capsys) -> None:
    registry.save_model(Doubler(), "m")
    registry.save_model(Doubler(), "m")
    root = str(registry.root)
    assert main(["--root", root, "stage", "m/2", "Production"]) == EXIT_OK
    capsys.readouterr()
    assert main(["--root", root, "versions", "m", "--json"]) == EXIT_OK
    listed = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["stage"]) for v in listed] == [(2, "Production"), (1, None)]
    assert main(["--root", root, "show", "m/Production", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["version"] == 2
    assert main(["--root", root, "check"]) == EXIT_OK
    assert root in capsys.readouterr().out


def test_ui_pages_read_the_root(registry: CustomModelRegistry) -> None:
    registry.save_model(Doubler(), "m", metadata={"auc": 0.5})
    registry.save_model(Doubler(), "m", metadata={"auc": 0.7}, stage="Production")
    models = pages.models_page(registry)
    assert [row.name for row in models.models] == ["m"]
    page = pages.model_page(registry, "m")
    assert [row.version for row in page.versions] == [2, 1]
    version = pages.version_page(registry, "m", 2)
    assert version.stage == "Production"


def test_a_fresh_process_loads_what_another_saved(registry: CustomModelRegistry) -> None:
    registry.save_model(Doubler(), "m", stage="Production")
    code = (
        "import sys; from fsregistry import CustomModelRegistry;"
        "r = CustomModelRegistry(sys.argv[1], create=False);"
        "print(r.load_model('m/Production')['model'].predict([[21]])[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(registry.root)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == 42


def test_the_browser_serves_the_root(registry: CustomModelRegistry) -> None:
    from test_ui_server import fetch
    from ui_demo import running

    registry.save_model(Doubler(), "m", metadata={"auc": 0.5})
    registry.save_model(Doubler(), "m", metadata={"auc": 0.7}, aliases=["champion"])
    with running(registry) as server:
        for path, needle in [
            ("/", ">m<"),
            ("/models/m/", "Metrics across versions"),
            ("/models/m/versions/2", "@champion"),
            ("/models/m/history", "stage history"),
        ]:
            status, _, body = fetch(server, path)
            assert status == 200, (path, body[-500:])
            assert needle in body, path
