"""Export / import bundles: round trips, provenance, conflicts, and hostile archives."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import PYTHON, subprocess_env
from games import games, save_version

from fsregistry import (
    BundleError,
    BundleNotFoundError,
    CustomModelRegistry,
    EnvironmentMismatchWarning,
    ImportConflictError,
    IntegrityError,
    InvalidArgumentError,
    InvalidNameError,
    ModelExistsError,
    ModelPredictor,
    PickleRefusedError,
)
from fsregistry.bundle import MANIFEST_NAME, ImportedVersion, read_manifest

Factory = Callable[..., CustomModelRegistry]


# -- building models and bundles ----------------------------------------------------------------


def predictions(registry: CustomModelRegistry, uri: str) -> np.ndarray:
    X, _ = games(n=40, seed=99)
    return ModelPredictor(registry).load_model(uri).predict(X)


def read_members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as tar:
        out = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            out[member.name] = handle.read()
        return out


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def write_tar(path: Path, entries: list[tuple[tarfile.TarInfo, bytes]], gz: bool = True) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def reseal(members: dict[str, bytes]) -> None:
    """Rewrite the manifest so it honestly describes the (edited) members."""
    manifest = json.loads(members[MANIFEST_NAME])
    manifest["files"] = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in members.items()
        if name != MANIFEST_NAME
    }
    members[MANIFEST_NAME] = json.dumps(manifest).encode()


def edit_meta(members: dict[str, bytes], member: str, change: Callable[[dict[str, Any]], None]) -> None:
    meta = json.loads(members[member])
    change(meta)
    members[member] = json.dumps(meta).encode()


@pytest.fixture
def source(model_registry_factory: Factory) -> CustomModelRegistry:
    registry = model_registry_factory("source")
    save_version(registry, seed=0)
    save_version(registry, seed=1)
    registry.transition_model_stage("nba/2", "Production")
    registry.set_alias("nba", "champion", 2)
    registry.set_tag("nba/2", "reviewed", "yes")
    return registry


@pytest.fixture
def target(model_registry_factory: Factory) -> CustomModelRegistry:
    return model_registry_factory("target")


@pytest.fixture
def bundle(source: CustomModelRegistry, tmp_path: Path) -> Path:
    return source.export_model("nba", tmp_path / "nba.tar.gz")


def assert_untouched(registry: CustomModelRegistry) -> None:
    """Nothing published and nothing left in the staging area."""
    assert registry.list_models() == []
    assert list(registry.layout.staging.iterdir()) == []


# -- export -----------------------------------------------------------------------------------


def test_export_writes_one_archive_with_a_manifest_of_hashes(source: CustomModelRegistry, bundle: Path) -> None:
    members = read_members(bundle)
    manifest = json.loads(members[MANIFEST_NAME])
    assert manifest["kind"] == "fsregistry-bundle" and manifest["format"] == 1
    assert [(v["name"], v["version"]) for v in manifest["versions"]] == [("nba", 1), ("nba", 2)]
    assert set(members) == {MANIFEST_NAME, *manifest["files"]}
    for name, record in manifest["files"].items():
        assert record == {"sha256": hashlib.sha256(members[name]).hexdigest(), "size": len(members[name])}
    payload = source.get_model_version("nba/2")["files"]
    assert {n.rsplit("/", 1)[1] for n in manifest["files"] if n.startswith("models/nba/2/")} == {*payload, "meta.json"}
    assert read_manifest(bundle)["versions"] == manifest["versions"]


def test_export_is_gzip_by_default_and_plain_tar_for_dot_tar(source: CustomModelRegistry, tmp_path: Path) -> None:
    gz = source.export_model("nba/1", tmp_path / "one.bundle")
    plain = source.export_model("nba/1", tmp_path / "one.tar")
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert plain.read_bytes()[:2] != b"\x1f\x8b"
    with tarfile.open(plain, "r:") as tar:
        assert tar.getnames()[0] == MANIFEST_NAME


def test_export_accepts_any_identifiers_and_drops_duplicates(source: CustomModelRegistry, tmp_path: Path) -> None:
    path = source.export_model(["nba/Production", "nba@champion", "nba/1", "models:/nba/2"], tmp_path / "b.tar.gz")
    assert [(v["name"], v["version"]) for v in read_manifest(path)["versions"]] == [("nba", 2), ("nba", 1)]


def test_export_refuses_to_overwrite_unless_asked(source: CustomModelRegistry, bundle: Path) -> None:
    before = bundle.read_bytes()
    with pytest.raises(BundleError, match="already exists"):
        source.export_model("nba/1", bundle)
    assert bundle.read_bytes() == before
    source.export_model("nba/1", bundle, overwrite=True)
    assert [v["version"] for v in read_manifest(bundle)["versions"]] == [1]


def test_export_refuses_a_corrupt_version_and_leaves_no_file(source: CustomModelRegistry, tmp_path: Path) -> None:
    model_bin = source.version_path("nba/1") / "model.bin"
    data = bytearray(model_bin.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_bin.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        source.export_model("nba/1", tmp_path / "bad.tar.gz")
    assert list(tmp_path.glob("*bad*")) == []


def test_export_of_nothing_is_an_error(source: CustomModelRegistry, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="nothing to export"):
        source.export_model([], tmp_path / "empty.tar.gz")


# -- import -----------------------------------------------------------------------------------


def test_import_keeps_identity_and_records_provenance(
    source: CustomModelRegistry, target: CustomModelRegistry, bundle: Path
) -> None:
    results = target.import_model(bundle)
    assert [(r.name, r.version, r.status) for r in results] == [("nba", 1, "imported"), ("nba", 2, "imported")]
    for version in (1, 2):
        was, now = source.get_model_version(f"nba/{version}"), target.get_model_version(f"nba/{version}")
        for key in ("run_id", "created_at", "metadata", "files", "flavor", "description", "environment"):
            assert now[key] == was[key], key
        assert now["signature"] == was["signature"]
        pd.testing.assert_frame_equal(now["input_example"], was["input_example"])
        source_record = now["source"]
        assert source_record["imported_from"] == str(bundle.resolve())
        assert source_record["bundle_sha256"] == hashlib.sha256(bundle.read_bytes()).hexdigest()
        assert source_record["original_version"] == version
    assert np.array_equal(predictions(target, "models:/nba/2"), predictions(source, "models:/nba/2"))


def test_stage_and_aliases_are_not_carried_over_but_recorded(target: CustomModelRegistry, bundle: Path) -> None:
    target.import_model(bundle)
    info = target.get_model_version("nba/2")
    assert info["stage"] is None and info["aliases"] == []
    assert info["source"]["original_stage"] == "Production"
    assert info["source"]["original_aliases"] == ["champion"]
    assert info["metadata"]["tags"]["reviewed"] == "yes"


def test_keep_stages_applies_the_bundles_stage_and_aliases(target: CustomModelRegistry, bundle: Path) -> None:
    save_version(target, "nba", seed=5)  # nba/1 here is a different run: import the rest as new
    target.transition_model_stage("nba/1", "Production")
    target.import_model(bundle, as_new_version=True, keep_stages=True)
    assert target.get_model_version("models:/nba/Production")["source"]["original_version"] == 2
    assert target.get_model_version("nba@champion")["source"]["original_version"] == 2
    assert target.get_model_version("nba/1")["stage"] == "Archived"


def test_importing_twice_is_a_no_op(target: CustomModelRegistry, bundle: Path) -> None:
    target.import_model(bundle)
    metas = {v: (target.version_path(f"nba/{v}") / "meta.json").read_bytes() for v in (1, 2)}
    again = target.import_model(bundle)
    assert [r.status for r in again] == ["present", "present"]
    assert [v["version"] for v in target.list_versions("nba")] == [2, 1]
    assert metas == {v: (target.version_path(f"nba/{v}") / "meta.json").read_bytes() for v in (1, 2)}


def test_version_numbers_survive_gaps_and_are_not_reused(
    source: CustomModelRegistry, target: CustomModelRegistry, tmp_path: Path
) -> None:
    save_version(source, seed=2)
    source.delete_model("nba/1")
    path = source.export_model("nba", tmp_path / "gappy.tar.gz")
    assert [r.version for r in target.import_model(path)] == [2, 3]
    assert save_version(target, seed=3) == "models:/nba/4"


def test_a_taken_version_number_is_a_conflict_before_anything_is_published(
    target: CustomModelRegistry, bundle: Path
) -> None:
    save_version(target, "nba", seed=7)  # a different nba/1
    with pytest.raises(ImportConflictError, match="nba/1 already exists"):
        target.import_model(bundle)
    assert [v["version"] for v in target.list_versions("nba")] == [1]
    assert list(target.layout.staging.iterdir()) == []


def test_as_new_version_imports_a_conflict_under_the_next_number(
    source: CustomModelRegistry, target: CustomModelRegistry, bundle: Path
) -> None:
    save_version(target, "nba", seed=7)
    results = target.import_model(bundle, as_new_version=True)
    assert [(r.original_version, r.version) for r in results] == [(1, 3), (2, 2)]
    assert target.get_model_version("nba/3")["run_id"] == source.get_model_version("nba/1")["run_id"]


def test_a_deleted_number_is_not_reused_by_import(target: CustomModelRegistry, bundle: Path) -> None:
    target.import_model(bundle)
    target.delete_model("nba/1")
    with pytest.raises(ImportConflictError, match="deleted"):
        target.import_model(bundle)
    results = target.import_model(bundle, as_new_version=True)
    assert [(r.original_version, r.version, r.status) for r in results] == [(1, 3, "imported"), (2, 2, "present")]


def test_same_run_id_with_other_files_is_a_conflict(
    source: CustomModelRegistry, target: CustomModelRegistry, bundle: Path, tmp_path: Path
) -> None:
    target.import_model(bundle)
    members = read_members(bundle)
    members["models/nba/1/model.bin"] += b" "  # same run id, different payload
    edit_meta(
        members,
        "models/nba/1/meta.json",
        lambda m: m["files"].__setitem__(
            "model.bin",
            {
                "sha256": hashlib.sha256(members["models/nba/1/model.bin"]).hexdigest(),
                "size": len(members["models/nba/1/model.bin"]),
            },
        ),
    )
    reseal(members)
    forged = write_tar(tmp_path / "forged.tar.gz", [regular(n, d) for n, d in members.items()])
    with pytest.raises(ImportConflictError, match="different files"):
        target.import_model(forged)
    results = target.import_model(forged, as_new_version=True)
    new = target.get_model_version(results[0].uri)
    assert results[0].version == 3 and new["run_id"] != source.get_model_version("nba/1")["run_id"]
    assert new["source"]["original_run_id"] == source.get_model_version("nba/1")["run_id"]


def test_a_digest_in_meta_json_that_the_file_does_not_have_is_refused(
    target: CustomModelRegistry, bundle: Path, tmp_path: Path
) -> None:
    """The manifest checks SHA-256; a BLAKE3 that meta.json records is checked too, so a
    bundle cannot carry a version that would fail its own check at every load."""
    members = read_members(bundle)
    assert "blake3" in json.loads(members["models/nba/1/meta.json"])["files"]["model.bin"]
    edit_meta(members, "models/nba/1/meta.json", lambda m: m["files"]["model.bin"].update(blake3="0" * 64))
    reseal(members)
    forged = write_tar(tmp_path / "forged.tar.gz", [regular(n, d) for n, d in members.items()])
    with pytest.raises(BundleError, match="records blake3"):
        target.import_model(forged)
    assert_untouched(target)


def test_a_name_that_differs_only_by_case_is_refused_up_front(
    model_registry_factory: Factory, target: CustomModelRegistry, tmp_path: Path
) -> None:
    other = model_registry_factory("other")
    save_version(other, "NBA")
    save_version(target, "nba")
    with pytest.raises(ModelExistsError):
        target.import_model(other.export_model("NBA", tmp_path / "upper.tar.gz"))
    assert [m["name"] for m in target.list_models()] == ["nba"]


def test_import_into_a_fresh_process_predicts_identically(
    source: CustomModelRegistry, bundle: Path, tmp_path: Path
) -> None:
    X, _ = games(n=40, seed=99)
    X.to_csv(tmp_path / "games.csv", index=False)
    script = textwrap.dedent("""
        import sys
        import numpy as np, pandas as pd
        from fsregistry import CustomModelRegistry, ModelPredictor
        registry = CustomModelRegistry(sys.argv[1])
        [_, second] = registry.import_model(sys.argv[2])
        predictor = ModelPredictor(registry).load_model(second.uri)
        np.save(sys.argv[4], predictor.predict(pd.read_csv(sys.argv[3])))
    """)
    out = tmp_path / "theirs.npy"
    done = subprocess.run(
        [PYTHON, "-c", script, str(tmp_path / "elsewhere"), str(bundle), str(tmp_path / "games.csv"), str(out)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    ours = ModelPredictor(source).load_model("models:/nba/2").predict(pd.read_csv(tmp_path / "games.csv"))
    assert np.array_equal(np.load(out), ours)


def test_other_library_versions_warn_on_import_and_on_load(
    target: CustomModelRegistry, bundle: Path, tmp_path: Path
) -> None:
    members = read_members(bundle)
    edit_meta(
        members,
        "models/nba/2/meta.json",
        lambda m: m["environment"]["packages"].update({"scikit-learn": "0.0.1", "numpy": "0.0.2"}),
    )
    reseal(members)
    crafted = write_tar(tmp_path / "older.tar.gz", [regular(n, d) for n, d in members.items()])
    with pytest.warns(EnvironmentMismatchWarning, match=r"nba/2.*scikit-learn saved with 0\.0\.1"):
        target.import_model(crafted)
    with pytest.warns(EnvironmentMismatchWarning, match="numpy saved with 0.0.2"):
        target.load_model("nba/2")


def test_matching_library_versions_do_not_warn(target: CustomModelRegistry, bundle: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", EnvironmentMismatchWarning)
        target.import_model(bundle)
        target.load_model("nba/2")


def test_imported_version_reports_itself(target: CustomModelRegistry, bundle: Path) -> None:
    first = target.import_model(bundle)[0]
    assert isinstance(first, ImportedVersion)
    assert first.to_dict() == {
        "name": "nba",
        "version": 1,
        "original_version": 1,
        "run_id": first.run_id,
        "status": "imported",
        "uri": "models:/nba/1",
        "kept_model_fields": [],
        "recorded_code": [],
    }


# -- hostile and damaged bundles ----------------------------------------------------------------

Mutation = Callable[[dict[str, bytes], Path], list[tuple[tarfile.TarInfo, bytes]]]
MODEL = "models/nba/1/model.bin"


def _entries(
    members: dict[str, bytes],
    replace: dict[str, tuple[tarfile.TarInfo, bytes]] | None = None,
    extra: list[tuple[tarfile.TarInfo, bytes]] | None = None,
) -> list[tuple[tarfile.TarInfo, bytes]]:
    out = [(replace or {}).get(name) or regular(name, data) for name, data in members.items()]
    return out + (extra or [])


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, b""


def _dotdot(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    m["models/nba/1/../../../evil.txt"] = b"owned"
    reseal(m)
    return _entries(m)


def _absolute(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    m[str(tmp / "evil.txt")] = b"owned"
    reseal(m)
    return _entries(m)


def _symlink(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return _entries(m, {MODEL: _special(MODEL, tarfile.SYMTYPE, "/etc/passwd")})


def _hardlink(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return _entries(m, {MODEL: _special(MODEL, tarfile.LNKTYPE, MANIFEST_NAME)})


def _device(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return _entries(m, {MODEL: _special(MODEL, tarfile.CHRTYPE)})


def _fifo(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return _entries(m, {MODEL: _special(MODEL, tarfile.FIFOTYPE)})


def _directory(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return _entries(m, extra=[_special("models/nba/1/sub", tarfile.DIRTYPE)])


def _flipped_byte(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    data = bytearray(m[MODEL])
    data[-1] ^= 0x01
    m[MODEL] = bytes(data)
    return _entries(m)


def _shorter_member(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    m[MODEL] = m[MODEL][:-10]
    return _entries(m)


def _unknown_member(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return _entries(m, extra=[regular("models/nba/1/extra.py", b"import os")])


def _unknown_but_listed(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    m["models/nba/1/extra.py"] = b"import os"
    reseal(m)  # the manifest lists it, but no version's meta.json does
    return _entries(m)


def _missing_member(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    del m["models/nba/1/preprocessor.pkl"]
    return _entries(m)


def _duplicate_member(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    return _entries(m, extra=[regular(MODEL, m[MODEL])])


def _manifest_not_json(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    m[MANIFEST_NAME] = b"{not json"
    return _entries(m)


def _no_manifest(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    del m[MANIFEST_NAME]
    return _entries(m)


def _newer_format(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    manifest = json.loads(m[MANIFEST_NAME])
    manifest["format"] = 99
    m[MANIFEST_NAME] = json.dumps(manifest).encode()
    return _entries(m)


def _meta_lists_escaping_file(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    edit_meta(
        m,
        "models/nba/1/meta.json",
        lambda meta: meta["files"].update(
            {"../../evil.txt": {"sha256": hashlib.sha256(b"owned").hexdigest(), "size": 5}}
        ),
    )
    m["models/nba/1/../../evil.txt"] = b"owned"
    reseal(m)
    return _entries(m)


def _meta_of_another_version(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    edit_meta(m, "models/nba/1/meta.json", lambda meta: meta.update(version=7))
    reseal(m)
    return _entries(m)


def _bad_run_id(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    edit_meta(m, "models/nba/1/meta.json", lambda meta: meta.update(run_id="../../etc"))
    reseal(m)
    return _entries(m)


def _edit_meta_1(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
        edit_meta(m, "models/nba/1/meta.json", change)
        reseal(m)
        return _entries(m)

    return mutate


def _huge_version(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    manifest = json.loads(m[MANIFEST_NAME])
    manifest["versions"][0]["version"] = 10**12
    m[MANIFEST_NAME] = json.dumps(manifest).encode()
    return _entries(m)


def _edit_manifest(change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
        manifest = json.loads(m[MANIFEST_NAME])
        change(manifest)
        m[MANIFEST_NAME] = json.dumps(manifest).encode()
        return _entries(m)

    return mutate


def _long_file_name(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    name = "a" * 300  # longer than a file system takes: refused before anything is staged
    edit_meta(
        m,
        "models/nba/1/meta.json",
        lambda meta: meta["files"].update({name: {"sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}}),
    )
    m[f"models/nba/1/{name}"] = b"x"
    reseal(m)
    return _entries(m)


def _huge_extended_header(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    info, data = regular(MODEL, m[MODEL])
    info.pax_headers = {"comment": "9" * 100_000}  # read whole into memory, parsed before Python 3.11.10 in O(n^2)
    return _entries(m, replace={MODEL: (info, data)})


def _two_models_one_name_but_case(m: dict[str, bytes], tmp: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    """The bundle also carries version 1 as model ``NBA``: both could never land."""
    for name in [n for n in m if n.startswith("models/nba/1/")]:
        m[name.replace("models/nba/", "models/NBA/")] = m[name]
    edit_meta(m, "models/NBA/1/meta.json", lambda meta: meta.update(name="NBA", run_id="f" * 32))
    manifest = json.loads(m[MANIFEST_NAME])
    first = next(v for v in manifest["versions"] if v["name"] == "nba" and v["version"] == 1)
    manifest["versions"].append({**first, "name": "NBA", "version": 1, "run_id": "f" * 32})
    manifest["models"]["NBA"] = manifest["models"]["nba"]
    m[MANIFEST_NAME] = json.dumps(manifest).encode()
    reseal(m)
    return _entries(m)


HOSTILE: dict[str, tuple[Mutation, str]] = {
    "payload file name too long": (_long_file_name, "not a safe relative file name"),
    "extended header too large": (_huge_extended_header, "extended header of"),
    "two models differing only by case": (_two_models_one_name_but_case, "differ only by case"),
    "dotdot name": (_dotdot, "unsafe name"),
    "absolute name": (_absolute, "unsafe name"),
    "symlink": (_symlink, "symbolic link"),
    "hard link": (_hardlink, "hard link"),
    "device": (_device, "device"),
    "fifo": (_fifo, "device or fifo"),
    "directory": (_directory, "directory"),
    "hash mismatch": (_flipped_byte, "SHA-256"),
    "member shorter than recorded": (_shorter_member, "manifest says"),
    "unknown member": (_unknown_member, "unknown member"),
    "unknown member listed in manifest": (_unknown_but_listed, "does not match its versions"),
    "missing member": (_missing_member, "missing"),
    "duplicate member": (_duplicate_member, "appears twice"),
    "manifest not json": (_manifest_not_json, "not valid JSON"),
    "no manifest": (_no_manifest, "not an fsregistry bundle"),
    "newer bundle format": (_newer_format, "upgrade fsregistry"),
    "meta lists an escaping file": (_meta_lists_escaping_file, "unsafe name"),
    "meta of another version": (_meta_of_another_version, "describes nba/7"),
    "bad run id": (_bad_run_id, "run_id"),
    "bad created_at": (_edit_meta_1(lambda meta: meta.update(created_at="yesterday")), "created_at"),
    "unknown stage": (_edit_meta_1(lambda meta: meta.update(stage="Live")), "unknown stage"),
    "bad alias": (_edit_meta_1(lambda meta: meta.update(aliases={"../x": "2026-01-01"})), "invalid alias"),
    "preprocessor not listed": (
        _edit_meta_1(lambda meta: meta["files"].pop("preprocessor.pkl")),
        "does not list preprocessor.pkl",
    ),
    "huge version number": (_huge_version, "valid version number"),
    "models table not an object": (_edit_manifest(lambda m: m.update(models=["nba"])), "'models' table"),
    "models table names another model": (
        _edit_manifest(lambda m: m["models"].update(other={"description": "x", "tags": {}})),
        "no version",
    ),
    "model-level description not text": (
        _edit_manifest(lambda m: m["models"]["nba"].update(description=5)),
        "model-level record",
    ),
    "model-level tags not a dict": (_edit_manifest(lambda m: m["models"]["nba"].update(tags=["x"])), "tags"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_bundles_are_refused_before_anything_is_written(
    case: str, target: CustomModelRegistry, bundle: Path, tmp_path: Path
) -> None:
    mutate, message = HOSTILE[case]
    crafted = write_tar(tmp_path / "crafted.tar.gz", mutate(read_members(bundle), tmp_path))
    with pytest.raises(BundleError, match=message):
        target.import_model(crafted)
    assert_untouched(target)
    assert not (tmp_path / "evil.txt").exists()
    assert not Path("/etc/passwd.fsregistry").exists()


def test_oversized_members_are_refused_by_the_cap(target: CustomModelRegistry, bundle: Path) -> None:
    with pytest.raises(BundleError, match="cap"):
        target.import_model(bundle, max_member_size=64)
    assert_untouched(target)


def _cut_point(path: Path, where: str) -> int:
    """Where to cut an archive: a fraction of it, or half-way through its last file."""
    if where != "last file":
        return int(path.stat().st_size * float(where))
    if path.name.endswith(".gz"):
        return path.stat().st_size - 12  # loses the end of the deflate stream and the CRC
    with tarfile.open(path, "r:") as tar:
        last = tar.getmembers()[-1]
    return last.offset_data + last.size // 2


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("where", ["0.3", "0.6", "last file"])
def test_truncated_archives_are_refused(
    gz: bool, where: str, source: CustomModelRegistry, target: CustomModelRegistry, tmp_path: Path
) -> None:
    whole = source.export_model("nba", tmp_path / ("b.tar.gz" if gz else "b.tar"))
    cut = tmp_path / ("cut.tar.gz" if gz else "cut.tar")
    cut.write_bytes(whole.read_bytes()[: _cut_point(whole, where)])
    with pytest.raises(BundleError):
        target.import_model(cut)
    assert_untouched(target)


def test_a_file_that_is_not_an_archive_is_refused(target: CustomModelRegistry, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not a tar archive" * 100)
    with pytest.raises(BundleError, match="not a readable bundle"):
        target.import_model(junk)
    assert_untouched(target)


def test_a_missing_bundle_is_a_file_not_found_registry_error(target: CustomModelRegistry, tmp_path: Path) -> None:
    for missing in (tmp_path / "nope.tar.gz", tmp_path):
        with pytest.raises(BundleNotFoundError, match="no bundle file at") as caught:
            target.import_model(missing)
        assert isinstance(caught.value, FileNotFoundError) and caught.value.path == str(missing)
    assert_untouched(target)


def test_a_fifo_or_a_device_is_no_bundle_and_never_read(target: CustomModelRegistry, tmp_path: Path) -> None:
    """Reading a FIFO with no writer, or ``/dev/zero``, would never end."""
    fifo = tmp_path / "handover.tar.gz"
    os.mkfifo(fifo)
    device = tmp_path / "zero.tar.gz"
    device.symlink_to("/dev/zero")
    for path in (fifo, device):
        outcome: list[BaseException] = []

        def attempt(path: Path = path, outcome: list[BaseException] = outcome) -> None:
            try:
                target.import_model(path)
            except BaseException as exc:  # reported below, in the test's thread
                outcome.append(exc)

        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(timeout=60)
        if worker.is_alive() and path == fifo:  # blocked reading it: give it an end, so the thread ends too
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        assert not worker.is_alive(), f"importing {path.name} did not return"
        assert isinstance(outcome[0], BundleNotFoundError) and "not a regular file" in str(outcome[0])
    assert_untouched(target)


def test_keep_stages_refuses_an_alias_differing_only_by_case_before_publishing(
    target: CustomModelRegistry, bundle: Path, tmp_path: Path
) -> None:
    save_version(target, "nba", seed=5)
    target.set_alias("nba", "Champion", 1)
    with pytest.raises(InvalidNameError, match="alias 'champion' differs only by case from nba@Champion"):
        target.import_model(bundle, keep_stages=True, as_new_version=True)
    assert [v["version"] for v in target.list_versions("nba")] == [1]  # nothing of the bundle published
    assert target.get_model("nba")["aliases"] == {"Champion": 1}


def test_members_are_read_in_archive_order_whatever_the_manifest_says(
    target: CustomModelRegistry, bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compressed archive read backwards is inflated again from its start for every
    step back: records are read as the archive is first read through, and payloads in
    archive order, so an import inflates it at most twice, whatever its order."""
    import gzip

    members = read_members(bundle)
    payloads = sorted((n for n in members if n != MANIFEST_NAME), reverse=True)  # version 2 before version 1
    crafted = write_tar(tmp_path / "reversed.tar.gz", [regular(n, members[n]) for n in [MANIFEST_NAME, *payloads]])
    rewinds = []
    real = gzip._GzipReader._rewind  # type: ignore[attr-defined]
    monkeypatch.setattr(gzip._GzipReader, "_rewind", lambda self: (rewinds.append(1), real(self))[1])  # type: ignore[attr-defined]
    results = target.import_model(crafted)
    assert [r.status for r in results] == ["imported", "imported"]
    assert len(rewinds) <= 1  # back to the first payload once, after the audit read it through


def test_one_bad_version_blocks_the_whole_bundle(target: CustomModelRegistry, bundle: Path, tmp_path: Path) -> None:
    members = read_members(bundle)
    data = bytearray(members["models/nba/2/model.bin"])
    data[0] ^= 0xFF
    members["models/nba/2/model.bin"] = bytes(data)  # version 1 is fine, version 2 is not
    crafted = write_tar(tmp_path / "half.tar.gz", _entries(members))
    with pytest.raises(BundleError, match="SHA-256"):
        target.import_model(crafted)
    assert_untouched(target)


# -- failures part-way, and concurrent importers ------------------------------------------------


def test_a_failed_export_leaves_no_file_behind(
    source: CustomModelRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsregistry.bundle import export as bundle_module

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(bundle_module, "_add_verified", fail)
    with pytest.raises(OSError, match="disk full"):
        source.export_model("nba", tmp_path / "out.tar.gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]


def test_a_publish_that_fails_part_way_cleans_up_and_can_be_completed(
    target: CustomModelRegistry, bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = target.store.publish
    calls: list[int] = []

    def second_fails(name: str, staged: Path, meta: dict[str, Any], *args: Any, version: int | None = None) -> int:
        calls.append(version or 0)
        if len(calls) == 2:
            raise OSError("power cut")
        return real(name, staged, meta, *args, version=version)

    monkeypatch.setattr(target.store, "publish", second_fails)
    with pytest.raises(OSError, match="power cut"):
        target.import_model(bundle)
    assert [v["version"] for v in target.list_versions("nba")] == [1]
    assert list(target.layout.staging.iterdir()) == []
    monkeypatch.undo()
    assert [r.status for r in target.import_model(bundle)] == ["present", "imported"]


def test_two_processes_importing_one_bundle_publish_each_version_once(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "shared"
    CustomModelRegistry(root)
    script = textwrap.dedent("""
        import sys
        from fsregistry import CustomModelRegistry
        results = CustomModelRegistry(sys.argv[1]).import_model(sys.argv[2])
        print(",".join(r.status for r in results))
    """)
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", script, str(root), str(bundle)],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.extend(out.strip().split(","))
    assert sorted(outputs) == ["imported", "imported", "present", "present"]
    registry = CustomModelRegistry(root)
    assert [v["version"] for v in registry.list_versions("nba")] == [2, 1]
    assert list(registry.layout.staging.iterdir()) == []


def test_a_version_another_import_publishes_while_this_one_plans_is_found_not_a_conflict(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan made before the lock looks at the version number, then at the run: another
    import of the same bundle publishing in between (here, right after the run lookup) makes
    the version present, never a conflict with "a different version" at its number."""
    from fsregistry.bundle import importer

    root = tmp_path / "shared"
    mine, other = CustomModelRegistry(root), CustomModelRegistry(root)
    real_find_run = importer._find_run
    raced: list[bool] = []

    def find_then_race(store: Any, run_id: str) -> Any:
        found = real_find_run(store, run_id)
        if not raced:
            raced.append(True)
            assert [r.status for r in other.import_model(bundle)] == ["imported", "imported"]
        return found

    monkeypatch.setattr(importer, "_find_run", find_then_race)
    assert [r.status for r in mine.import_model(bundle)] == ["present", "present"]
    assert [v["version"] for v in mine.list_versions("nba")] == [2, 1]


# -- edited meta.json inside an honestly re-sealed bundle -----------------------------------------


def test_a_bundle_cannot_smuggle_a_pickle_past_allow_pickle_false(
    model_registry_factory: Factory, tmp_path: Path
) -> None:
    from toy_models import Tripwire

    marker = tmp_path / "unpickled"
    exporter = model_registry_factory("exporter")
    exporter.save_model(Tripwire(marker), "trap")
    members = read_members(exporter.export_model("trap/1", tmp_path / "trap.tar.gz"))
    edit_meta(members, "models/trap/1/meta.json", lambda m: m["model"].update(uses_pickle=False))
    reseal(members)
    crafted = write_tar(tmp_path / "crafted.tar.gz", [regular(n, d) for n, d in members.items()])
    strict = model_registry_factory("strict", allow_pickle=False)
    strict.import_model(crafted)  # importing copies bytes; it never unpickles
    with pytest.raises(PickleRefusedError):
        strict.load_model("trap/1")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metrics", "xy"),
        ("metrics", {"auc": "high"}),
        ("params", [1]),
        ("tags", {"k": 1}),
        ("description", 5),
        ("environment", "x"),
        ("signature", {"inputs": 5}),
        ("input_example", {"data": 1}),
        ("model", {"format": 1, "class": "x", "uses_pickle": True}),
    ],
)
def test_malformed_fields_are_refused_before_anything_is_published(
    target: CustomModelRegistry, bundle: Path, tmp_path: Path, field: str, value: Any
) -> None:
    members = read_members(bundle)
    edit_meta(members, "models/nba/2/meta.json", lambda m: m.__setitem__(field, value))
    reseal(members)
    crafted = write_tar(tmp_path / "bad.tar.gz", [regular(n, d) for n, d in members.items()])
    with pytest.raises(BundleError, match="malformed"):
        target.import_model(crafted)
    assert_untouched(target)


# -- model-level description and tags -----------------------------------------------------------


def _describe_model(registry: CustomModelRegistry, description: str, **tags: str) -> None:
    registry.set_description("nba", description)
    for key, value in tags.items():
        registry.set_tag("nba", key, value)


def test_model_description_and_tags_travel_with_the_bundle(
    source: CustomModelRegistry, target: CustomModelRegistry, tmp_path: Path
) -> None:
    _describe_model(source, "predicts home wins", team="ops", sport="nba")
    path = source.export_model("nba/1", tmp_path / "described.tar.gz")
    models = read_manifest(path)["models"]
    assert models == {"nba": {"description": "predicts home wins", "tags": {"team": "ops", "sport": "nba"}}}
    results = target.import_model(path)
    here = target.get_model("nba")
    assert (here["description"], here["tags"]) == ("predicts home wins", {"team": "ops", "sport": "nba"})
    assert [r.kept_model_fields for r in results] == [()]
    assert target.get_model_version("nba/1")["metadata"]["tags"] == {"framework": "sklearn"}  # versions' own


def test_a_receiving_model_without_its_own_gets_the_bundles(
    source: CustomModelRegistry, target: CustomModelRegistry, tmp_path: Path
) -> None:
    _describe_model(source, "from the source", team="ops")
    path = source.export_model("nba/2", tmp_path / "b.tar.gz")
    save_version(target, "nba", seed=7)  # the model exists here, with no description or tags
    target.import_model(path)
    assert (target.get_model("nba")["description"], target.get_model("nba")["tags"]) == (
        "from the source",
        {"team": "ops"},
    )


def test_a_receiving_models_own_description_and_tags_are_kept_and_said(
    source: CustomModelRegistry,
    target: CustomModelRegistry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _describe_model(source, "from the source", team="ops")
    path = source.export_model("nba", tmp_path / "b.tar.gz")
    save_version(target, "nba", seed=7)
    _describe_model(target, "ours", team="serving")
    with caplog.at_level("INFO", logger="fsregistry"):
        results = target.import_model(path, as_new_version=True)
    assert (target.get_model("nba")["description"], target.get_model("nba")["tags"]) == ("ours", {"team": "serving"})
    assert {r.kept_model_fields for r in results} == {("description", "tags")}
    assert results[0].to_dict()["kept_model_fields"] == ["description", "tags"]
    assert "keeps this registry's description and tags" in caplog.text


def test_a_bundle_without_model_level_data_still_imports(
    source: CustomModelRegistry, target: CustomModelRegistry, bundle: Path, tmp_path: Path
) -> None:
    members = read_members(bundle)
    manifest = json.loads(members[MANIFEST_NAME])
    del manifest["models"]  # as written before model-level data travelled
    members[MANIFEST_NAME] = json.dumps(manifest).encode()
    older = write_tar(tmp_path / "older.tar.gz", _entries(members))
    assert [r.status for r in target.import_model(older)] == ["imported", "imported"]
    assert (target.get_model("nba")["description"], target.get_model("nba")["tags"]) == ("", {})


# -- export destinations ------------------------------------------------------------------------


def test_export_into_a_missing_folder_says_so(source: CustomModelRegistry, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"folder .*nodir does not exist") as caught:
        source.export_model("nba/1", tmp_path / "nodir" / "x.tar.gz")
    assert isinstance(caught.value, ValueError)
    assert "incomplete" not in str(caught.value)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InvalidArgumentError, match="is not a folder"):
        source.export_model("nba/1", tmp_path / "afile" / "x.tar.gz")


@pytest.mark.parametrize("overwrite", [False, True])
def test_export_onto_a_folder_is_refused_clearly(source: CustomModelRegistry, tmp_path: Path, overwrite: bool) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(InvalidArgumentError, match="it is a folder; name the bundle file"):
        source.export_model("nba/1", folder, overwrite=overwrite)
    assert list(folder.iterdir()) == [] and not list(tmp_path.glob(".*incomplete"))
