"""Object storage under the faults a network and other machines bring: replies lost after the
server applied a write (the client's retry is then refused), a repair racing a live save,
the cache evicted under a load, a server that ignores conditional writes, and errors from
deep inside the client library."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from toy_models import Doubler

from fsregistry import (
    CorruptRegistryError,
    CustomModelRegistry,
    IntegrityError,
    InvalidArgumentError,
    ObjectStoreError,
    VersionNotFoundError,
)
from fsregistry.storage import cache as cache_module
from fsregistry.storage.cache import ContentCache
from fsregistry.storage.s3 import S3Objects
from fsregistry.store import objects as store_objects

Put = Callable[..., Any]


def _retried_after_landing(real: Put, applies: Callable[[str, dict[str, Any]], bool]) -> Put:
    """``put`` as the client behaves when the reply to an applied conditional write is lost:
    its retry of the same request is refused (412), so the caller is told ``None``."""

    def put(self: S3Objects, key: str, data: bytes, **conditions: Any) -> Any:
        tag = real(self, key, data, **conditions)
        if tag is not None and applies(key, conditions):
            assert real(self, key, data, **conditions) is None  # the retry, refused
            self._local.retried = True  # as boto3 reports it: the refusal answered a retry
            return None
        return tag

    return put


def test_a_record_created_but_answered_as_taken_is_kept(s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            S3Objects,
            "put",
            _retried_after_landing(S3Objects.put, lambda key, c: "/versions/" in key and c.get("if_absent")),
        )
        assert registry.save_model(Doubler(2.0), "m") == "models:/m/2"  # its own number, not the next
    assert registry.check(repair=True, older_than=0).problems == []
    assert registry.load_model("m/2")["model"].factor == 2.0


@pytest.mark.parametrize("operation", ["save", "delete", "delete_alias", "promote"])
def test_a_head_write_answered_as_stale_is_not_applied_twice(s3_root: str, operation: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m", aliases=["champion"])
    registry.save_model(Doubler(), "m")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Objects, "put", _retried_after_landing(S3Objects.put, lambda key, c: key.endswith("head.json")))
        if operation == "save":
            assert registry.save_model(Doubler(), "m") == "models:/m/3"
        elif operation == "delete":
            registry.delete_model("m/2")
        elif operation == "delete_alias":
            registry.delete_alias("m", "champion")
        else:
            registry.transition_model_stage("m/2", "Production")
    versions = {v["version"]: v for v in registry.list_versions("m")}
    if operation == "save":
        assert sorted(versions) == [1, 2, 3]
    elif operation == "delete":
        assert sorted(versions) == [1]
        with pytest.raises(VersionNotFoundError):
            registry.load_model("m/2")
    elif operation == "delete_alias":
        assert registry.get_model("m")["aliases"] == {}
    else:
        history = registry.get_model_version("m/2")["stage_history"]
        assert [h["stage"] for h in history] == ["Production"]  # applied once
    assert registry.check(older_than=0).problems == []


def test_a_repair_that_buries_a_running_save_makes_that_save_fail_not_lie(s3_root: str, monkeypatch) -> None:
    """A repair with no grace period runs while a save is still uploading and takes its
    record for abandoned: the model's head orders the two, so the save, committing after,
    fails and publishes nothing."""
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    upload = S3Objects.upload
    repairs: list[Any] = []

    def upload_then_repair(self: S3Objects, key: str, path: Path) -> None:
        upload(self, key, path)
        deadline = time.monotonic() + 60  # the record is created beside the upload: wait for it
        while time.monotonic() < deadline:
            report = CustomModelRegistry(s3_root).check(repair=True, older_than=0)
            if any(p.kind == "abandoned_version" and p.fixed for p in report.problems):
                repairs.append(report)
                return
            time.sleep(0.01)

    monkeypatch.setattr(S3Objects, "upload", upload_then_repair)
    with pytest.raises(ObjectStoreError, match="removed as abandoned"):
        registry.save_model(Doubler(5.0), "m")
    monkeypatch.undo()
    assert repairs, "the repair never saw the save's record"
    assert [v["version"] for v in registry.list_versions("m")] == [1]
    assert registry.check(repair=True, older_than=0).ok
    assert registry.check(older_than=0).problems == []
    assert registry.save_model(Doubler(), "m") == "models:/m/3"  # 2 stays used


def test_a_lost_reply_followed_by_too_many_writes_is_not_guessed(s3_root: str) -> None:
    """When more writes than the head remembers follow a write whose reply was lost, nobody
    can tell whether it landed: the call fails instead of applying the change twice."""
    from fsregistry import ConcurrentWriteError

    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    other = CustomModelRegistry(s3_root)
    put = S3Objects.put

    def busy(self: S3Objects, key: str, data: bytes, **conditions: Any) -> Any:
        tag = put(self, key, data, **conditions)
        if key.endswith("head.json") and self is registry.store.objects:  # type: ignore[union-attr]
            for i in range(store_objects._WRITES):
                other.set_tag("m", "n", str(i))
            self._local.retried = True  # the reply was lost, the retry refused
            return None
        return tag

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Objects, "put", busy)
        with pytest.raises(ConcurrentWriteError, match="may or may not have been applied"):
            registry.set_description("m", "new")
    assert registry.get_model("m")["description"] == "new"  # it had landed, and was not repeated


def test_a_stale_head_after_many_writes_is_not_mistaken_for_a_lost_reply(s3_root: str) -> None:
    """More writes than the head remembers land while a save uploads: its first commit is
    refused because its head is stale, not because of a lost reply, and it simply retries."""
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    other = CustomModelRegistry(s3_root)
    upload = S3Objects.upload

    def upload_while_others_write(self: S3Objects, key: str, path: Path) -> None:
        for i in range(store_objects._WRITES + 1):
            other.set_tag("m", "n", str(i))
        upload(self, key, path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Objects, "upload", upload_while_others_write)
        assert registry.save_model(Doubler(), "m") == "models:/m/2"
    assert [v["version"] for v in registry.list_versions("m")] == [2, 1]


def test_a_record_that_cannot_be_read_keeps_every_data_object(s3_root: str, tmp_path: Path) -> None:
    """A repair that cannot read a live version's record cannot know which data it names:
    it removes no data at all, and says what it could not read."""
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(2.0), "m")
    get = S3Objects.get
    failed: list[str] = []

    def flaky(self: S3Objects, key: str) -> Any:
        if "/versions/" in key and not failed:
            failed.append(key)
            raise ObjectStoreError(f"{self.url}: connection reset", path=self.url)
        return get(self, key)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Objects, "get", flaky)
        report = CustomModelRegistry(s3_root).check(repair=True, older_than=0)
    assert [p.kind for p in report.problems] == ["unreadable"]
    fresh = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(tmp_path / "fresh-cache")})
    assert fresh.load_model("m/1")["model"].factor == 2.0  # downloaded: the data is all there


def test_a_probe_the_server_rejects_leaves_no_marker(s3_server: Any, s3_env: dict[str, str]) -> None:
    put = S3Objects.put

    def no_if_match(self: S3Objects, key: str, data: bytes, **conditions: Any) -> Any:
        if conditions.get("if_match"):
            raise ObjectStoreError(f"{self.url}: 501 NotImplemented", path=self.url)
        return put(self, key, data, **conditions)

    bucket = s3_server.new_bucket()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Objects, "put", no_if_match)
        with pytest.raises(ObjectStoreError, match="NotImplemented"):
            CustomModelRegistry(f"s3://{bucket}/reg")
    assert "Contents" not in s3_server.client().list_objects_v2(Bucket=bucket)


def test_an_entry_in_use_is_not_evicted_by_another_process(tmp_path: Path) -> None:
    def fetch(folder: Path) -> None:
        (folder / "model.bin").write_bytes(b"x" * 1000)

    ours, theirs = ContentCache(tmp_path / "c"), ContentCache(tmp_path / "c", max_bytes=0)
    with ours.borrow("ab" * 32, fetch) as folder:
        theirs.trim()  # another process, over its bound, trims meanwhile
        assert (folder / "model.bin").read_bytes() == b"x" * 1000
    theirs.trim()  # no longer in use: now it goes
    assert ours.find("ab" * 32) is None


def test_trimming_clears_what_dead_processes_left_in_the_cache(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "c")
    old = cache.staging_dir("save")
    (old / "model.bin").write_bytes(b"half")
    stale = time.time() - cache_module.STALE_STAGING_SECONDS - 60
    os.utime(old, (stale, stale))
    young = cache.staging_dir("save")
    cache.trim()
    assert not old.exists() and young.exists()


@pytest.mark.parametrize("ignored", ["if_absent", "if_match"])
def test_a_server_that_ignores_conditional_writes_is_refused(
    s3_server: Any, s3_env: dict[str, str], ignored: str
) -> None:
    put = S3Objects.put

    def careless(self: S3Objects, key: str, data: bytes, **conditions: Any) -> Any:
        conditions.pop(ignored, None)  # writes whatever that condition says
        return put(self, key, data, **conditions)

    bucket = s3_server.new_bucket()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Objects, "put", careless)
        with pytest.raises(ObjectStoreError, match="ignores conditional writes"):
            CustomModelRegistry(f"s3://{bucket}/reg")
    assert "Contents" not in s3_server.client().list_objects_v2(Bucket=bucket)  # no marker left


def test_an_upload_refused_by_the_server_names_the_root(s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.store.objects.bucket = "no-such-bucket-here"  # type: ignore[union-attr]
    with pytest.raises(ObjectStoreError, match="does not exist") as caught:
        registry.save_model(Doubler(), "m")
    assert s3_root in str(caught.value)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"connect_timeout": "abc"}, InvalidArgumentError),
        ({"read_timeout": 0}, InvalidArgumentError),
        ({"max_attempts": None}, InvalidArgumentError),
        ({"profile": "no-such-profile"}, ObjectStoreError),
    ],
)
def test_bad_storage_options_are_clear_errors(s3_root: str, options: dict[str, Any], error: type) -> None:
    with pytest.raises(error) as caught:
        CustomModelRegistry(s3_root, storage_options=options)
    assert next(iter(options)) in str(caught.value) or s3_root in str(caught.value)


# -- hostile objects in the bucket, a damaged local cache ----------------------------------------


def _put_json(registry: CustomModelRegistry, key: str, value: Any) -> None:
    registry.store.objects.put(key, json.dumps(value).encode())  # type: ignore[attr-defined]


def _get_json(registry: CustomModelRegistry, key: str) -> Any:
    return json.loads(registry.store.objects.get(key).data)  # type: ignore[attr-defined]


def test_a_record_naming_another_models_data_never_gets_it_removed(s3_root: str, tmp_path: Path) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(1.0), "other")
    registry.save_model(Doubler(2.0), "m")
    registry.save_model(Doubler(3.0), "m")
    theirs = _get_json(registry, "models/other/versions/0000000001.json")["data_prefix"]
    record = _get_json(registry, "models/m/versions/0000000002.json")
    _put_json(registry, "models/m/versions/0000000002.json", {**record, "data_prefix": theirs})
    registry.delete_model("m/2")
    fresh = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(tmp_path / "fresh")})
    assert fresh.load_model("other/1")["model"].factor == 1.0
    # m/2's own files, which the edited record no longer named, are what a repair removes
    assert [p.kind for p in fresh.check(repair=True, older_than=0).problems] == ["leftover_data"]
    assert (
        CustomModelRegistry(s3_root, storage_options={"cache_dir": str(tmp_path / "again")})
        .load_model("other/1")["model"]
        .factor
        == 1.0
    )


def test_records_no_registry_writes_are_stray_and_never_buried(s3_root: str) -> None:
    """A record for version 0, or under a name the registry refuses, is someone's object:
    reported, never taken for an abandoned version (whose burial would corrupt the head)."""
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    for key in ("models/m/versions/0000000000.json", "models/Bad Name!/versions/0000000001.json"):
        _put_json(registry, key, {"name": "m", "version": 0, "format": 1})
    report = registry.check(repair=True, older_than=0)
    assert sorted(p.kind for p in report.problems) == ["stray_file", "stray_file"] and not any(
        p.fixed for p in report.problems
    )
    assert [m["name"] for m in registry.list_models()] == ["m"] and registry.load_model("m/1")["version"] == 1


def test_a_save_past_the_last_version_number_is_refused_not_acknowledged(s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    head = _get_json(registry, "models/m/head.json")
    _put_json(registry, "models/m/head.json", {**head, "max_deleted_version": 2**53 - 1})
    with pytest.raises(CorruptRegistryError, match="no version number left"):
        registry.save_model(Doubler(), "m")
    assert [v["version"] for v in registry.list_versions("m")] == [1]


def test_a_deeply_nested_record_is_reported_not_a_recursion_error(s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    deep = "[" * 100_000 + "]" * 100_000
    registry.store.objects.put("models/m/versions/0000000001.json", deep.encode())  # type: ignore[attr-defined]
    assert [p.kind for p in registry.check().problems] == ["corrupt_meta"]
    registry.delete_model("m/1", force=True)  # the version goes, and its number stays used
    assert registry.list_models() == [] and registry.save_model(Doubler(), "m") == "models:/m/2"


def _damage_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _damage_link(path: Path) -> None:
    path.unlink()
    path.symlink_to("/etc/hostname")


def _damage_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize(
    "damage",
    [Path.unlink, _damage_fifo, _damage_link, _damage_folder],
    ids=["removed", "fifo", "link", "folder"],
)
def test_a_damaged_local_copy_is_removed_and_downloaded_again(
    s3_root: str, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    """The local copy, not the stored version, is damaged: the load says so (an
    IntegrityError, never a hang or a bare OSError), and the next load downloads it."""
    cache = tmp_path / "cache"
    registry = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(cache)})
    registry.save_model(Doubler(4.0), "m")
    [entry] = [p for p in (cache / "entries").glob("*/*") if p.is_dir()]
    damage(entry / "model.bin")
    reader = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(cache)})
    with pytest.raises(IntegrityError, match="local copy"):
        reader.load_model("m/1")
    assert reader.load_model("m/1")["model"].factor == 4.0


@pytest.mark.parametrize("where", ["lock file", "entry", "staging"])
def test_links_in_the_local_cache_are_removed_never_written_through(s3_root: str, tmp_path: Path, where: str) -> None:
    cache, outside = tmp_path / "cache", tmp_path / "outside"
    outside.mkdir()
    registry = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(cache)})
    registry.save_model(Doubler(5.0), "m")
    [entry] = [p for p in (cache / "entries").glob("*/*") if p.is_dir()]
    if where == "lock file":
        (entry / cache_module.USE_FILE).unlink(missing_ok=True)
        (entry / cache_module.USE_FILE).symlink_to(outside / "created")
    elif where == "entry":
        shutil.move(str(entry), str(outside / "entry"))
        entry.symlink_to(outside / "entry", target_is_directory=True)
    else:
        shutil.rmtree(cache / "staging", ignore_errors=True)
        (cache / "staging").symlink_to(outside, target_is_directory=True)
    before = sorted(p.relative_to(outside) for p in outside.rglob("*"))
    reader = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(cache)})
    assert reader.load_model("m/1")["model"].factor == 5.0
    reader.save_model(Doubler(6.0), "m")
    assert sorted(p.relative_to(outside) for p in outside.rglob("*")) == before


def test_a_stray_file_in_the_cache_or_a_cache_that_is_a_file(s3_root: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    registry = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(cache), "cache_max_bytes": 0})
    registry.save_model(Doubler(), "m")
    shard = next(p for p in (cache / "entries").iterdir() if p.is_dir())
    (shard / "notes.txt").write_text("someone's")
    assert CustomModelRegistry(s3_root, storage_options={"cache_dir": str(cache)}).load_model("m/1")["version"] == 1
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InvalidArgumentError, match="is not a folder"):
        CustomModelRegistry(s3_root, storage_options={"cache_dir": str(tmp_path / "afile")}).load_model("m/1")


def test_a_load_whose_entry_is_evicted_again_and_again_uses_a_private_copy(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "c", max_bytes=0)
    fetched: list[Path] = []

    def fetch(folder: Path) -> None:
        (folder / "model.bin").write_bytes(b"x" * 10)
        fetched.append(folder)

    original = cache.fill

    def evicted_at_once(key: str, fetch: Callable[[Path], None]) -> Path:
        folder = original(key, fetch)
        cache._remove(folder)  # another process trims it before this one opens it
        return folder

    cache.fill = evicted_at_once  # type: ignore[method-assign]
    with cache.borrow("cd" * 32, fetch) as folder:
        assert (folder / "model.bin").read_bytes() == b"x" * 10
    assert not folder.exists() and len(fetched) == 4  # three entries evicted, then a private copy


def test_an_edited_head_answers_the_same_way_whatever_names_a_version(s3_root: str) -> None:
    """A stage or alias held by a version the head does not list holds nothing; a summary
    filed under another number than its own makes the head corrupt, not the listing wrong."""
    registry = CustomModelRegistry(s3_root)
    for _ in range(3):
        registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/2", "Production")
    registry.set_alias("m", "champ", 2)
    head = _get_json(registry, "models/m/head.json")
    del head["versions"]["2"]
    _put_json(registry, "models/m/head.json", head)
    for ident in ("m/2", "m/Production", "m@champ"):
        with pytest.raises(VersionNotFoundError):
            registry.load_model(ident)
    assert [v["version"] for v in registry.list_versions("m")] == [3, 1]
    head["versions"]["1"] = {**head["versions"]["1"], "version": 3}
    _put_json(registry, "models/m/head.json", head)
    with pytest.raises(CorruptRegistryError, match=r"versions\['1'\] describes version 3"):
        registry.list_versions("m")
    assert [p.kind for p in registry.check().problems] == ["corrupt_model_record"]


def test_a_repair_step_the_store_fails_is_reported_and_the_check_goes_on(
    s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsregistry.errors import ConcurrentWriteError

    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    registry.store.objects.put(f"data/m/{'cd' * 16}/model.bin", b"left by a dead save")  # type: ignore[attr-defined]

    def always_beaten(self: Any, name: str, prefix: str, seen: set[int]) -> bool:
        raise ConcurrentWriteError("gave up changing model 'm' after 40 attempts", name=name)

    monkeypatch.setattr(store_objects.ObjectVersionStore, "sweep_unreferenced", always_beaten)
    report = registry.check(repair=True, older_than=0)
    [problem] = report.problems
    assert problem.kind == "leftover_data" and not problem.fixed and "repair could not finish" in problem.detail
