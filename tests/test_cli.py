"""The ``fsregistry`` command line: every command through ``main(argv)``, and the installed
script and ``python -m fsregistry`` in subprocesses."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import PYTHON, subprocess_env
from games import games, save_version

from fsregistry import CustomModelRegistry
from fsregistry.cli import EXIT_ERROR, EXIT_OK, EXIT_PROBLEMS, main

SCRIPT = Path(sys.executable).with_name("fsregistry")


class Run:
    """Call ``main`` with ``--root`` and capture what it printed."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys

    def __call__(self, *argv: str, root: bool = True) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*(["--root", str(self.root)] if root else []), *argv])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str) -> Any:
        code, out, err = self(*argv, "--json")
        assert code == EXIT_OK, err
        return json.loads(out)


@pytest.fixture
def registry(model_registry: CustomModelRegistry) -> CustomModelRegistry:
    save_version(model_registry, seed=0)
    save_version(model_registry, seed=1)
    return model_registry


@pytest.fixture
def cli(registry: CustomModelRegistry, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(registry.root, capsys)


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == EXIT_ERROR
    assert err.startswith("fsregistry: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# -- listing and showing ----------------------------------------------------------------------


def test_models_table_and_json(cli: Run) -> None:
    code, out, _ = cli("models")
    assert code == EXIT_OK
    header, row = out.splitlines()
    assert header.split()[:3] == ["NAME", "VERSIONS", "LATEST"]
    assert row.split()[:3] == ["nba", "2", "2"]
    assert [m["name"] for m in cli.json("models")] == ["nba"]


def test_json_is_accepted_before_the_command_too(cli: Run) -> None:
    code, out, _ = cli("--json", "models")
    assert code == EXIT_OK and json.loads(out)[0]["name"] == "nba"


def test_models_filtered_by_tag(cli: Run, registry: CustomModelRegistry) -> None:
    assert cli.json("models", "--tag", "framework=sklearn")[0]["name"] == "nba"
    assert cli.json("models", "--tag", "framework=xgboost") == []
    assert_one_line_error(*cli("models", "--tag", "oops")[::2], "KEY=VALUE")


def test_versions_lists_stage_aliases_size_and_metrics(cli: Run, registry: CustomModelRegistry) -> None:
    registry.transition_model_stage("nba/2", "Production")
    registry.set_alias("nba", "champion", 2)
    code, out, _ = cli("versions", "nba")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split() == ["VERSION", "STAGE", "ALIASES", "CREATED", "SIZE", "METRICS", "TAGS"]
    assert lines[1].startswith("2") and "Production" in lines[1] and "champion" in lines[1]
    assert "accuracy=0.81" in lines[1] and "KiB" in lines[1]
    assert [v["version"] for v in cli.json("versions", "nba")] == [2, 1]


def test_json_stays_strict_json_when_a_metric_is_not_finite(cli: Run, registry: CustomModelRegistry) -> None:
    from toy_models import Doubler

    registry.save_model(Doubler(), "nba", metrics={"auc": float("nan"), "loss": float("inf")})
    code, out, err = cli("versions", "nba", "--json")
    assert code == EXIT_OK, err
    newest = json.loads(out, parse_constant=lambda token: pytest.fail(f"non-standard JSON token {token}"))[0]
    assert newest["metrics"] == {"auc": None, "loss": None}


def test_show_prints_metadata_signature_and_environment(cli: Run) -> None:
    code, out, _ = cli("show", "nba/1")
    assert code == EXIT_OK
    for fragment in (
        "nba/1  (models:/nba/1)",
        "metrics",
        "accuracy",
        "signature",
        "home_team",
        "environment",
        "scikit-learn",
        "model.bin",
        "preprocessor.pkl",
    ):
        assert fragment in out
    data = cli.json("show", "models:/nba/latest")
    assert data["version"] == 2
    assert [c["name"] for c in data["signature"]["inputs"]] == ["home_team", "rest_days", "form"]
    assert data["input_example"][0]["home_team"] in {"BOS", "LAL", "DEN", "MIA"}
    assert data["environment"]["packages"]["scikit-learn"]


def test_show_of_a_missing_version_is_one_line(cli: Run) -> None:
    assert_one_line_error(*cli("show", "nba/9")[::2], "no version 9")
    assert_one_line_error(*cli("show", "nba/../x")[::2], "invalid")


# -- changing state ---------------------------------------------------------------------------


def test_stage_transitions(cli: Run, registry: CustomModelRegistry) -> None:
    code, out, _ = cli("stage", "nba/1", "production")
    assert code == EXIT_OK and "nba/1 is now in stage Production" in out
    assert cli.json("stage", "nba/2", "Production")["stage"] == "Production"
    assert registry.get_model_version("nba/1")["stage"] == "Archived"
    cli("stage", "nba/1", "Production", "--keep-existing")
    assert registry.get_model_version("nba/2")["stage"] is None
    assert_one_line_error(*cli("stage", "nba/1", "Live")[::2], "Live")


def test_alias_set_and_delete(cli: Run, registry: CustomModelRegistry) -> None:
    assert cli("alias", "set", "nba", "champion", "1")[0] == EXIT_OK
    assert registry.get_model_version("nba@champion")["version"] == 1
    assert cli("alias", "set", "nba", "champion", "latest")[0] == EXIT_OK
    assert registry.get_model_version("nba@champion")["version"] == 2
    assert cli("alias", "delete", "nba", "champion")[0] == EXIT_OK
    assert_one_line_error(*cli("alias", "delete", "nba", "champion")[::2], "no alias")


def test_tag_set_and_delete_on_models_and_versions(cli: Run, registry: CustomModelRegistry) -> None:
    assert cli("tag", "set", "nba", "owner", "data-team")[0] == EXIT_OK
    assert cli("tag", "set", "nba/1", "reviewed", "yes")[0] == EXIT_OK
    assert registry.get_model("nba")["tags"] == {"owner": "data-team"}
    assert registry.get_model_version("nba/1")["metadata"]["tags"]["reviewed"] == "yes"
    assert cli("tag", "delete", "nba/1", "reviewed")[0] == EXIT_OK
    assert "reviewed" not in registry.get_model_version("nba/1")["metadata"]["tags"]


def test_delete_refuses_protected_versions_unless_forced(cli: Run, registry: CustomModelRegistry) -> None:
    registry.transition_model_stage("nba/1", "Production")
    assert_one_line_error(*cli("delete", "nba/1")[::2], "force")
    assert cli("delete", "nba/1", "--force")[0] == EXIT_OK
    assert [v["version"] for v in registry.list_versions("nba")] == [2]
    assert cli("delete", "nba", "--yes")[0] == EXIT_OK
    assert registry.list_models() == []


# -- deleting a whole model asks for its name -------------------------------------------------


def test_deleting_a_whole_model_without_a_terminal_needs_yes(cli: Run, registry: CustomModelRegistry) -> None:
    code, out, err = cli("delete", "nba")  # pytest's stdin is not a terminal
    assert_one_line_error(code, err, "model 'nba' and all 2 of its version(s)", "not a terminal", "--yes")
    assert out == "" and [v["version"] for v in registry.list_versions("nba")] == [2, 1]
    assert cli("delete", "nba/1")[0] == EXIT_OK  # one version: no question asked
    assert cli("delete", "nba", "-y")[0] == EXIT_OK
    assert registry.list_models() == []


def test_a_model_with_a_staged_or_aliased_version_still_needs_force(cli: Run, registry: CustomModelRegistry) -> None:
    registry.set_alias("nba", "champion", 1)
    registry.transition_model_stage("nba/2", "Staging")
    code, _, err = cli("delete", "nba", "--yes")
    assert_one_line_error(code, err, "nba/2, nba/1", "--force")
    assert "force=True" not in err and len(registry.list_versions("nba")) == 2
    assert cli("delete", "nba", "--yes", "--force")[0] == EXIT_OK
    assert registry.list_models() == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "deleted"), [("nba\n", True), ("NBA\n", False), ("", False), ("nb\n", False)])
def test_a_terminal_is_asked_for_the_models_name(
    cli: Run, registry: CustomModelRegistry, monkeypatch: pytest.MonkeyPatch, typed: str, deleted: bool
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(typed))
    code, out, err = cli("delete", "nba")
    assert "Type the model's name (nba) to confirm: " in err and "all 2 of its version(s)" in err
    if deleted:
        assert code == EXIT_OK and out == "deleted nba\n" and registry.list_models() == []
    else:
        assert code == EXIT_ERROR and "not confirmed" in err and "nothing was deleted" in err
        assert len(registry.list_versions("nba")) == 2


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_confirmation_in_a_real_terminal(registry: CustomModelRegistry) -> None:
    """The installed command, its stdin a pseudo-terminal: a wrong name deletes nothing, the
    right one deletes the model."""
    for typed, expected in ((b"other\n", EXIT_ERROR), (b"nba\n", EXIT_OK)):
        primary, secondary = os.openpty()
        try:
            with subprocess.Popen(
                [PYTHON, "-m", "fsregistry", "--root", str(registry.root), "delete", "nba"],
                stdin=secondary,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=subprocess_env(),
            ) as proc:
                os.write(primary, typed)  # waits in the terminal until the command reads it
                _, err = proc.communicate(timeout=120)
        finally:
            os.close(primary)
            os.close(secondary)
        assert proc.returncode == expected, err
        assert b"Type the model's name (nba) to confirm" in err
        assert (registry.list_models() == []) == (expected == EXIT_OK)


# -- errors: one plain line, and JSON on stdout with --json -----------------------------------

FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["show", f"nba/{FIVE_THOUSAND_DIGITS}"], "at most 18 digits"),
        (["delete", f"nba/{FIVE_THOUSAND_DIGITS}"], "at most 18 digits"),
        (["stage", f"models:/nba/{FIVE_THOUSAND_DIGITS}", "Production"], "at most 18 digits"),
        (["alias", "set", "nba", "champion", FIVE_THOUSAND_DIGITS], "at most 18 digits"),
        (["tag", "set", f"nba/{FIVE_THOUSAND_DIGITS}", "k", "v"], "at most 18 digits"),
        (["export", f"nba/{FIVE_THOUSAND_DIGITS}", "out.tar"], "at most 18 digits"),
        (["show", f"nba@{FIVE_THOUSAND_DIGITS}"], "invalid model identifier"),
        (["show", FIVE_THOUSAND_DIGITS], "invalid model identifier"),
        (["tag", "set", "nba/1", "k", "v\udcff"], "not valid Unicode text"),
        (["tag", "set", "nba", "k\udcff", "v"], "not valid Unicode text"),
        (["prune", "nba", "--older-than", f"{FIVE_THOUSAND_DIGITS}d"], "out of range"),
    ],
)
def test_absurd_input_is_one_plain_line(cli: Run, argv: list[str], fragment: str) -> None:
    code, out, err = cli(*argv)
    assert_one_line_error(code, err, fragment)
    assert "unexpected" not in err and len(err) < 1000 and out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["ui", "--port", "99999"],
        ["ui", "--port", FIVE_THOUSAND_DIGITS],
        ["prune", "nba", "--keep-last", FIVE_THOUSAND_DIGITS],
        ["predict", "nba/1", "in.csv", "out.csv", "--batch-size", FIVE_THOUSAND_DIGITS],
    ],
)
def test_absurd_numbers_in_options_are_usage_errors(cli: Run, argv: list[str]) -> None:
    code, out, err = cli(*argv)
    assert code == EXIT_ERROR and out == ""
    assert err.startswith("usage: ") and "error: argument --" in err and len(err) < 1000
    assert "unexpected" not in err and "Traceback" not in err


def test_the_ui_refuses_a_port_or_host_the_socket_layer_cannot_take() -> None:
    from fsregistry.errors import InvalidArgumentError
    from fsregistry.ui import make_server

    registry = types.SimpleNamespace(root=Path("."))
    for kwargs in ({"port": 99999}, {"port": -1}, {"port": True}, {"host": "bad\udcffhost", "allow_remote": True}):
        with pytest.raises(InvalidArgumentError):
            make_server(registry, **{"port": 0, **kwargs})  # type: ignore[arg-type]


def test_a_port_that_cannot_be_bound_names_host_and_port(cli: Run, fake_ui: list[Any], monkeypatch: Any) -> None:
    import errno

    def serve(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(sys.modules["fsregistry.ui"], "serve", serve)
    assert_one_line_error(*cli("ui", "--port", "8123")[::2], "cannot serve on 127.0.0.1:8123: Address already in use")


def test_json_errors_are_one_json_object_on_stdout(cli: Run) -> None:
    code, out, err = cli("show", "nba/7", "--json")
    assert_one_line_error(code, err, "no version 7")
    assert json.loads(out) == {
        "error": {
            "type": "VersionNotFoundError",
            "message": err.removeprefix("fsregistry: error: ").rstrip("\n"),
            "name": "nba",
            "version": 7,
            "path": None,
        }
    }
    code, out, err = cli("--json", "show", f"nba/{FIVE_THOUSAND_DIGITS}")
    assert code == EXIT_ERROR and json.loads(out)["error"]["type"] == "InvalidIdentifierError"
    code, out, err = cli("delete", "nba", "--json")  # refused: not a terminal
    assert code == EXIT_ERROR and "--yes" in json.loads(out)["error"]["message"]


def test_json_usage_errors_are_json_too(cli: Run) -> None:
    code, out, err = cli("--json", "frobnicate")
    assert code == EXIT_ERROR and "invalid choice" in err and err.startswith("usage: ")
    error = json.loads(out)["error"]
    assert error["type"] == "UsageError" and "invalid choice: 'frobnicate'" in error["message"]
    code, out, err = cli("ui", "--port", "99999", "--json")
    assert code == EXIT_ERROR and json.loads(out)["error"]["message"] == "argument --port: a port is at most 65535"


def test_without_json_errors_leave_stdout_empty(cli: Run) -> None:
    code, out, err = cli("show", "nba/7")
    assert code == EXIT_ERROR and out == "" and err.count("\n") == 1


# -- predict ----------------------------------------------------------------------------------


def _input_csv(tmp_path: Path) -> Path:
    X, _ = games(n=50, seed=3)
    X.insert(0, "game_id", [f"g{i:03d}" for i in range(len(X))])
    path = tmp_path / "upcoming.csv"
    X.to_csv(path, index=False)
    return path


def test_predict_writes_probabilities_with_id_columns(cli: Run, tmp_path: Path) -> None:
    source, out = _input_csv(tmp_path), tmp_path / "predictions.csv"
    code, stdout, _ = cli("predict", "nba/2", str(source), str(out), "--id-column", "game_id", "--batch-size", "7")
    assert code == EXIT_OK and str(out) in stdout
    written = pd.read_csv(out)
    assert list(written["game_id"]) == list(pd.read_csv(source)["game_id"])
    assert written.shape == (50, 2) and written.iloc[:, 1].between(0, 1).all()


def test_predict_labels_to_parquet(cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "labels.parquet"
    data = cli.json("predict", "nba/1", str(_input_csv(tmp_path)), str(out), "--labels", "--id-column", "game_id")
    assert data["output"] == str(out)
    written = pd.read_parquet(out)
    assert set(written.iloc[:, 1]) <= {0, 1} and len(written) == 50


def test_predict_with_a_missing_input_is_one_line(cli: Run, tmp_path: Path) -> None:
    assert_one_line_error(*cli("predict", "nba/1", str(tmp_path / "nope.csv"), str(tmp_path / "o.csv"))[::2])
    assert not (tmp_path / "o.csv").exists()


def test_bad_batch_size_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    code, _, err = cli("predict", "nba/1", "in.csv", "out.csv", "--batch-size", "0")
    assert code == EXIT_ERROR and "at least 1" in err


# -- export / import ----------------------------------------------------------------------------


def test_export_then_import_into_a_new_root(cli: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "nba.tar.gz"
    exported = cli.json("export", "nba", str(bundle))
    assert exported["bundle"] == str(bundle) and exported["size"] == bundle.stat().st_size
    other = Run(tmp_path / "box-b", capsys)
    code, out, _ = other("import", str(bundle))
    assert code == EXIT_OK and "imported" in out
    assert [r["status"] for r in other.json("import", str(bundle))] == ["present", "present"]
    assert [v["version"] for v in other.json("versions", "nba")] == [2, 1]


def test_export_several_identifiers_and_refuse_overwrite(cli: Run, tmp_path: Path) -> None:
    bundle = tmp_path / "two.tar"
    assert cli("export", "nba/1", "nba/latest", str(bundle))[0] == EXIT_OK
    assert_one_line_error(*cli("export", "nba/1", str(bundle))[::2], "already exists")
    assert cli("export", "nba/1", str(bundle), "--force")[0] == EXIT_OK


def test_import_conflict_names_the_way_out(cli: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "nba.tar.gz"
    cli("export", "nba/1", str(bundle))
    other_root = tmp_path / "box-b"
    save_version(CustomModelRegistry(other_root), seed=9)
    other = Run(other_root, capsys)
    assert_one_line_error(*other("import", str(bundle))[::2], "--as-new-version")
    assert other.json("import", str(bundle), "--as-new-version")[0]["version"] == 2


def test_import_of_a_damaged_bundle_is_one_line(cli: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b" + b"0" * 100)
    assert_one_line_error(*cli("import", str(junk))[::2], "bundle")


# -- check and prune ----------------------------------------------------------------------------


def test_check_exit_codes(cli: Run, registry: CustomModelRegistry) -> None:
    code, out, _ = cli("check")
    assert code == EXIT_OK and out.startswith("ok")
    assert cli.json("check")["ok"] is True
    model_bin = registry.version_path("nba/1") / "model.bin"
    model_bin.write_bytes(model_bin.read_bytes()[:-1] + b"\x00")
    code, out, _ = cli("check")
    assert code == EXIT_PROBLEMS
    assert "nba/1" in out and "cannot be fixed by --repair (integrity)" in out
    assert "check --repair" not in out  # repair never fixes a corrupt file; DETAIL says what does
    code, out, _ = cli("check", "--json")
    assert code == EXIT_PROBLEMS and json.loads(out)["ok"] is False


def test_check_repair_fixes_leftovers_and_exits_zero(cli: Run, registry: CustomModelRegistry) -> None:
    (registry.layout.staging / "save.999999999.abc.incomplete").mkdir()
    assert cli("check")[0] == EXIT_PROBLEMS
    code, out, _ = cli("check", "--repair")
    assert code == EXIT_OK and "yes" in out
    assert cli("check")[0] == EXIT_OK


def test_prune_dry_run_then_for_real(cli: Run, registry: CustomModelRegistry) -> None:
    save_version(registry, seed=2)
    code, out, _ = cli("prune", "nba", "--keep-last", "1", "--dry-run")
    assert code == EXIT_OK and "would delete 2 version(s)" in out
    assert len(registry.list_versions("nba")) == 3
    assert [v["version"] for v in cli.json("prune", "nba", "--keep-last", "1")] == [1, 2]
    assert [v["version"] for v in registry.list_versions("nba")] == [3]
    code, out, _ = cli("prune", "nba", "--keep-last", "0", "--older-than", "30d")
    assert code == EXIT_OK and "nothing to prune" in out
    assert_one_line_error(*cli("prune", "nba")[::2], "needs a rule")
    assert_one_line_error(*cli("prune", "nba", "--older-than", "soon")[::2], "invalid age")


# -- ui ---------------------------------------------------------------------------------------


@pytest.fixture
def fake_ui(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []
    module = types.ModuleType("fsregistry.ui")

    def serve(registry: CustomModelRegistry, host: str = "127.0.0.1", port: int = 8000, **kw: Any) -> None:
        calls.append(("serve", (registry.root, host, port, kw)))

    def export_site(registry: CustomModelRegistry, directory: str, *, include_paths: bool = False) -> Path:
        calls.append(("export_site", (registry.root, directory, include_paths)))
        return Path(directory)

    module.serve = serve  # type: ignore[attr-defined]
    module.export_site = export_site  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fsregistry.ui", module)
    return calls


def test_ui_serves_with_host_and_port(cli: Run, registry: CustomModelRegistry, fake_ui: list[Any]) -> None:
    assert cli("ui", "--port", "8123", "--host", "127.0.0.2")[0] == EXIT_OK
    assert fake_ui == [("serve", (registry.root, "127.0.0.2", 8123, {}))]
    cli("ui", "--host", "0.0.0.0", "--allow-remote")
    assert fake_ui[-1] == ("serve", (registry.root, "0.0.0.0", 8000, {"allow_remote": True}))


def test_ui_export(cli: Run, registry: CustomModelRegistry, fake_ui: list[Any], tmp_path: Path) -> None:
    code, out, _ = cli("ui", "--export", str(tmp_path / "site"))
    assert code == EXIT_OK and str(tmp_path / "site") in out
    assert fake_ui == [("export_site", (registry.root, str(tmp_path / "site"), False))]
    cli("ui", "--export", str(tmp_path / "site2"), "--include-paths")
    assert fake_ui[-1] == ("export_site", (registry.root, str(tmp_path / "site2"), True))


# -- the root, usage and unexpected errors --------------------------------------------------------


def test_root_from_the_environment(
    registry: CustomModelRegistry, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FSREGISTRY_ROOT", str(registry.root))
    assert main(["models", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)[0]["name"] == "nba"


def test_no_root_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FSREGISTRY_ROOT", raising=False)
    code = main(["models"])
    assert_one_line_error(code, capsys.readouterr().err, "--root", "FSREGISTRY_ROOT")


def test_importing_a_missing_bundle_creates_no_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "new-root"
    for missing in (tmp_path / "typo.tar.gz", tmp_path):  # no such file; a folder
        code = main(["--root", str(root), "import", str(missing)])
        assert_one_line_error(code, capsys.readouterr().err, f"no bundle file at {missing}")
    assert not root.exists()


def test_a_missing_root_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--root", str(tmp_path / "typo"), "models"])
    assert_one_line_error(code, capsys.readouterr().err, "not an fsregistry root")
    assert not (tmp_path / "typo").exists()


def test_usage_errors_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == EXIT_ERROR
    assert "invalid choice" in capsys.readouterr().err
    assert main([]) == EXIT_ERROR
    assert main(["--help"]) == EXIT_OK
    assert "prune" in capsys.readouterr().out
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("fsregistry ")


def test_an_unexpected_exception_is_still_one_line(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(CustomModelRegistry, "list_models", boom)
    assert_one_line_error(*cli("models")[::2], "unexpected RuntimeError: disk on fire second line")


def test_warnings_are_one_line(cli: Run, registry: CustomModelRegistry, tmp_path: Path) -> None:
    meta_file = registry.version_path("nba/1") / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["environment"]["packages"]["scikit-learn"] = "0.0.1"
    meta_file.write_text(json.dumps(meta))
    code, _, err = cli("predict", "nba/1", str(_input_csv(tmp_path)), str(tmp_path / "p.csv"))
    assert code == EXIT_OK
    assert err.startswith("fsregistry: warning: EnvironmentMismatchWarning:") and err.count("\n") == 1, err


# -- the installed script -----------------------------------------------------------------------


def _subprocess(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=subprocess_env(**env))


def test_installed_script(registry: CustomModelRegistry) -> None:
    assert SCRIPT.exists(), "pip install -e . creates the fsregistry console script"
    done = _subprocess([str(SCRIPT), "versions", "nba", "--json"], FSREGISTRY_ROOT=str(registry.root))
    assert done.returncode == EXIT_OK, done.stderr
    assert [v["version"] for v in json.loads(done.stdout)] == [2, 1]


def test_python_dash_m_reports_errors_without_a_traceback(registry: CustomModelRegistry) -> None:
    done = _subprocess([PYTHON, "-m", "fsregistry", "--root", str(registry.root), "show", "nope/1"])
    assert done.returncode == EXIT_ERROR
    assert done.stderr.startswith("fsregistry: error:") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


# -- review fixes: export destinations, model-level notes, check advice, closed pipes -------------


def test_export_into_a_missing_folder_is_one_clear_line(cli: Run, tmp_path: Path) -> None:
    code, _, err = cli("export", "nba/1", str(tmp_path / "nodir" / "x.tar.gz"))
    assert_one_line_error(code, err, "nodir does not exist")
    assert "incomplete" not in err
    code, _, err = cli("export", "nba/1", str(tmp_path), "--force")
    assert_one_line_error(code, err, "is a folder")


def test_import_notes_model_description_and_tags_it_kept(
    cli: Run, registry: CustomModelRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.set_description("nba", "source's")
    bundle = tmp_path / "nba.tar.gz"
    cli("export", "nba/2", str(bundle))
    other_root = tmp_path / "box-b"
    here = CustomModelRegistry(other_root)
    save_version(here, seed=9)
    here.set_description("nba", "ours")
    code, out, _ = Run(other_root, capsys)("import", str(bundle))
    assert code == EXIT_OK
    assert "note: model 'nba' kept this registry's description" in out
    assert here.get_model("nba")["description"] == "ours"


def test_check_after_repair_lists_what_was_fixed_and_what_needs_a_person(
    cli: Run, registry: CustomModelRegistry
) -> None:
    registry.layout.meta_file("nba", 1).write_text("{not json")
    (registry.layout.staging / "save.999999999.abc.incomplete").mkdir()
    code, out, _ = cli("check")
    assert code == EXIT_PROBLEMS
    assert "run `fsregistry check --repair` to fix" in out
    assert "cannot be fixed by --repair (corrupt_meta)" in out
    code, out, _ = cli("check", "--repair")
    assert code == EXIT_PROBLEMS
    assert "check --repair" not in out and "check(repair=True)" not in out
    assert "repaired" in out and "cannot be fixed by --repair (corrupt_meta)" in out
    assert "restore the version folder from a backup" in out and "fsregistry delete nba/1" in out


def _more_than_a_pipe_holds(registry: CustomModelRegistry) -> None:
    for n in range(40):  # about 80 KB of `versions --json`: more than a pipe buffer holds
        registry.set_tag("nba/1", f"k{n}", "v" * 2000)


def test_a_reader_that_closes_the_pipe_early_is_not_an_error(registry: CustomModelRegistry) -> None:
    _more_than_a_pipe_holds(registry)
    env = subprocess_env(FSREGISTRY_ROOT=str(registry.root))
    argv = [PYTHON, "-m", "fsregistry", "versions", "nba", "--json"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader leaves before the command writes a byte
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == EXIT_OK, err
    assert err == ""


def test_a_pipefail_script_reading_one_line_succeeds(registry: CustomModelRegistry) -> None:
    _more_than_a_pipe_holds(registry)
    script = f'set -euo pipefail\n"{PYTHON}" -m fsregistry versions nba --json | head -1\n'
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(FSREGISTRY_ROOT=str(registry.root)),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[\n" and done.stderr == ""


@pytest.mark.parametrize(
    ("library", "cli"),
    [
        ("m/1 is protected (stage Production); move it first, or pass force=True (CLI: --force)", "or pass --force"),
        ("index.json is malformed: field count is -1; run check(repair=True)", "run fsregistry check --repair"),
        ("model.bin does not match its hash (run check() to see every affected file)", "run fsregistry check to see"),
        ("prune needs a rule: keep_last=N, older_than=AGE, or both", "--keep-last N, --older-than AGE"),
        ("progress=True needs tqdm: pip install 'fsregistry[progress]'", "--progress needs tqdm"),
        (
            "refusing to unpickle preprocessor.pkl (pass with_preprocessor=False to skip it) at x: this registry "
            "was opened with allow_pickle=False (or FSREGISTRY_ALLOW_PICKLE=0); only native formats load. "
            "Open it with allow_pickle=True if you trust the files.",
            "preprocessor.pkl (which the command line always loads) at x",
        ),
    ],
)
def test_the_cli_gives_advice_in_its_own_terms(library: str, cli: str) -> None:
    from fsregistry.cli import cli_words

    said = cli_words(library)
    assert cli in said
    assert "=True" not in said and "check(" not in said and "keep_last" not in said
    assert "with_preprocessor" not in said


def test_prune_without_a_rule_names_the_cli_flags(cli: Run, registry: CustomModelRegistry) -> None:
    code, _, err = cli("prune", "nba")
    assert code == EXIT_ERROR and "--keep-last N" in err and "keep_last=" not in err


def test_every_argument_has_help_and_every_default_is_shown() -> None:
    import argparse

    from fsregistry.cli import build_parser

    problems: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                if not action.help:
                    problems.append(f"{path} {action.dest}: no help")
                elif (
                    action.option_strings
                    and action.default not in (None, False, [], argparse.SUPPRESS)
                    and "default" not in action.help
                ):
                    problems.append(f"{path} {action.dest}: default {action.default!r} not shown")

    walk(build_parser(), "fsregistry")
    assert problems == []


def test_check_rows_wrap_to_the_terminal(
    cli: Run, registry: CustomModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long DETAIL is wrapped onto further lines within the terminal's width."""
    import fsregistry.cli

    monkeypatch.setattr(fsregistry.cli, "_terminal_width", lambda: 100)  # as on a 100-column terminal
    (registry.root / "nba" / "1" / "stray-file-with-a-long-name-that-is-not-the-registrys.txt").write_text("x")
    code, out, _ = cli("check")
    assert code == EXIT_PROBLEMS
    table = out.split("\n1 problem(s) found")[0].splitlines()
    assert all(len(line) <= 100 for line in table), table
    assert len(table) > 2  # the header, and the detail on more than one line
    monkeypatch.setattr(fsregistry.cli, "_terminal_width", lambda: None)  # a pipe: whole lines
    assert len(cli("check")[1].split("\n1 problem(s) found")[0].splitlines()) == 2
