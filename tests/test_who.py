"""Who did it: every save, stage change and alias change records the operating-system user
and the host, and shows them; a user name that cannot be read never fails a change."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry
from fsregistry.cli import main
from fsregistry.storage import files

ME = {"user": getpass.getuser(), "host": socket.gethostname()}


def test_saves_stage_and_alias_changes_record_who(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m", stage="Staging")
    registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/2", "Staging")  # archives 1
    registry.set_alias("m", "champ", 1)
    registry.set_alias("m", "champ", 2)  # moves it: removed from 1
    registry.delete_alias("m", "champ")
    one, two = (registry.get_model_version(f"m/{v}") for v in (1, 2))
    assert one["created_by"] == two["created_by"] == ME
    assert [(e["stage"], e["by"]) for e in one["stage_history"]] == [("Staging", ME), ("Archived", ME)]
    assert [(e["alias"], e["action"], e["by"]) for e in one["alias_history"]] == [
        ("champ", "set", ME),
        ("champ", "removed", ME),
    ]
    assert [(e["alias"], e["action"]) for e in two["alias_history"]] == [("champ", "set"), ("champ", "removed")]
    assert registry.check().problems == []  # the records stay valid


def test_an_unreadable_user_name_never_fails_a_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise KeyError("getpwuid(): uid not found: 12345")

    def no_host() -> str:
        raise OSError("no host name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    monkeypatch.setattr(socket, "gethostname", no_host)
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/1", "Production")
    info = registry.get_model_version("m/1")
    assert info["created_by"] == {"user": None, "host": None}
    assert info["stage_history"][-1]["by"] == {"user": None, "host": None}
    assert files.read_json(registry.layout.meta_file("m", 1))["created_by"] == {"user": None, "host": None}


def test_show_prints_who(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/1", "Production")
    capsys.readouterr()
    assert main(["--root", str(registry.root), "show", "m/1"]) == 0
    out = capsys.readouterr().out
    who = f"{ME['user']}@{ME['host']}"
    (created_by,) = [line.split(None, 2)[2] for line in out.splitlines() if line.strip().startswith("created by")]
    assert created_by == who
    assert f"stage None -> Production  by {who}" in out


def test_the_browser_history_shows_who(tmp_path: Path) -> None:
    from fsregistry.ui.pages import stage_events

    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/1", "Production")
    events = stage_events(registry.get_model_version("m/1"))
    assert [e.by for e in events] == [f"{ME['user']}@{ME['host']}"]
