"""What only object storage has: roots given as URLs, configuration from the AWS variables,
clear errors naming the root, requests per operation, the local content cache, leftovers of
dead writers, and copying a registry between backends."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import subprocess_env
from toy_models import Doubler

from fsregistry import (
    CorruptRecordError,
    CorruptRegistryError,
    CustomModelRegistry,
    IntegrityError,
    InvalidArgumentError,
    ObjectStoreError,
    PickleRefusedError,
)
from fsregistry.cli import EXIT_ERROR, EXIT_OK, EXIT_PROBLEMS, main
from fsregistry.storage.cache import ContentCache


def _requests(registry: CustomModelRegistry) -> int:
    return int(registry.store.objects.requests)  # type: ignore[union-attr]


# -- roots and configuration ----------------------------------------------------------------


@pytest.mark.parametrize("root", ["gs://bucket/x", "http://127.0.0.1:9000/b", "s3:bucket/x", "S3:/bucket", "ftp://h/x"])
def test_a_root_that_is_neither_a_folder_nor_s3_is_refused(root: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match="not a registry root"):
        CustomModelRegistry(root)
    assert list(tmp_path.iterdir()) == []  # no folder named "s3:" or "gs:"


def test_the_root_comes_from_every_place_a_folder_does(s3_root: str, monkeypatch) -> None:
    CustomModelRegistry(s3_root).save_model(Doubler(), "m")
    monkeypatch.setenv("FSREGISTRY_ROOT", s3_root)
    assert CustomModelRegistry().resolve("m/1") == ("m", 1)
    seed_config = {"model_registry": {"root": s3_root}}
    assert CustomModelRegistry(seed_config, None, None).resolve("m/latest") == ("m", 1)
    assert repr(CustomModelRegistry(s3_root)) == f"CustomModelRegistry({s3_root!r})"


def test_storage_options_override_the_environment(s3_server: Any, s3_root: str, monkeypatch) -> None:
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    options = {"endpoint_url": s3_server.url, "access_key_id": "k", "secret_access_key": "s", "region": "eu-west-1"}
    registry = CustomModelRegistry(s3_root, storage_options=options)
    assert registry.save_model(Doubler(), "m") == "models:/m/1"
    with pytest.raises(InvalidArgumentError, match="unknown storage option") as info:
        CustomModelRegistry(s3_root, storage_options={"endpoint": s3_server.url})
    assert "endpoint_url" in str(info.value) and "cache_dir, cache_max_bytes" in str(info.value)  # every known one


def test_storage_options_are_refused_for_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="object storage"):
        CustomModelRegistry(tmp_path / "r", storage_options={"region": "x"})


def test_a_prefix_holding_other_objects_is_not_taken_over(s3_server: Any, s3_env: dict[str, str]) -> None:
    bucket = s3_server.new_bucket()
    s3_server.client().put_object(Bucket=bucket, Key="data/someone.csv", Body=b"x")
    with pytest.raises(CorruptRegistryError, match="other objects"):
        CustomModelRegistry(f"s3://{bucket}/data")
    with pytest.raises(CorruptRegistryError, match="not an fsregistry root"):
        CustomModelRegistry(f"s3://{bucket}/empty", create=False)


# -- errors name the root -------------------------------------------------------------------


def test_a_missing_bucket_is_one_clear_error(s3_env: dict[str, str]) -> None:
    root = "s3://no-such-bucket-here/reg"
    with pytest.raises(ObjectStoreError, match="does not exist") as caught:
        CustomModelRegistry(root)
    assert root in str(caught.value)


def test_an_unreachable_endpoint_is_one_clear_error(s3_root: str, monkeypatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(ObjectStoreError, match="cannot reach") as caught:
        CustomModelRegistry(s3_root, storage_options={"max_attempts": 1})
    assert s3_root in str(caught.value)


def test_refused_credentials_are_one_clear_error(s3_root: str, monkeypatch) -> None:
    from moto import settings

    CustomModelRegistry(s3_root)
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # the server now checks keys
    with pytest.raises(ObjectStoreError, match="refused the credentials") as caught:
        CustomModelRegistry(s3_root)
    assert s3_root in str(caught.value)


def test_the_cli_prints_one_line_naming_the_root(s3_env: dict[str, str], capsys) -> None:
    root = "s3://no-such-bucket-here/reg"
    assert main(["--root", root, "models"]) == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and root in err
    assert main(["--root", root, "models", "--json"]) == EXIT_ERROR
    assert root in json.loads(capsys.readouterr().out)["error"]["message"]


# -- requests per operation -----------------------------------------------------------------


def test_requests_per_operation(s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m", stage="Production")
    before = _requests(registry)
    registry.save_model(Doubler(), "m", preprocessor_artifact={"a": 1})
    assert _requests(registry) - before == 2 + 3  # two uploads, then head, record, head
    before = _requests(registry)
    registry.resolve("m/Production")
    assert _requests(registry) - before == 1
    registry.load_model("m/Production")  # the save left its files in the cache
    before = _requests(registry)
    registry.load_model("m/Production")
    assert _requests(registry) - before == 2
    before = _requests(registry)
    registry.list_versions("m")
    assert _requests(registry) - before == 1


def test_refused_pickle_downloads_nothing(s3_root: str) -> None:
    CustomModelRegistry(s3_root).save_model(Doubler(), "m")
    reader = CustomModelRegistry(s3_root, allow_pickle=False, storage_options={"cache_dir": "/nonexistent/never"})
    before = _requests(reader)
    with pytest.raises(PickleRefusedError):
        reader.load_model("m/1")
    assert _requests(reader) - before == 2  # the head and the record: no file was downloaded


# -- the local cache ------------------------------------------------------------------------


def test_a_second_load_in_a_new_process_downloads_nothing(s3_root: str, tmp_path: Path) -> None:
    CustomModelRegistry(s3_root).save_model(Doubler(2.0), "m", preprocessor_artifact={"a": 1})
    cache = tmp_path / "shared-cache"
    code = (
        "import sys; from fsregistry import CustomModelRegistry;"
        "r = CustomModelRegistry(sys.argv[1], create=False, storage_options={'cache_dir': sys.argv[2]});"
        "n = r.store.objects.requests; d = r.load_model('m/1');"
        "print(r.store.objects.requests - n, d['model'].factor)"
    )
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code, s3_root, str(cache)],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.split())
    assert outputs[0] == ["4", "2.0"]  # head, record, two downloads
    assert outputs[1] == ["2", "2.0"]  # head, record: the files come from the shared cache


def test_the_cache_stays_within_its_bound(s3_root: str, tmp_path: Path) -> None:
    writer = CustomModelRegistry(s3_root)
    payload = "x" * 20_000
    for i in range(4):
        writer.save_model(Doubler(float(i)), "m", preprocessor_artifact={"p": payload})
    limit = 50_000  # room for two versions' files
    reader = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(tmp_path / "c"), "cache_max_bytes": limit})
    for i in range(1, 5):
        assert reader.load_model(f"m/{i}")["model"].factor == float(i - 1)
        assert ContentCache(tmp_path / "c", limit).size() <= limit
    before = _requests(reader)
    reader.load_model("m/4")  # the most recently used entry is kept
    assert _requests(reader) - before == 2


def test_a_damaged_cached_file_is_detected_and_downloaded_again(s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(5.0), "m")
    cached = registry.store.folder_path("m", 1, registry.store.read_meta("m", 1)) / "model.bin"
    data = bytearray(cached.read_bytes())
    data[-3] ^= 0xFF  # same size, one byte changed
    cached.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        registry.load_model("m/1")
    assert registry.load_model("m/1")["model"].factor == 5.0  # evicted, then downloaded again


def test_a_damaged_object_in_the_bucket_is_reported_by_check(s3_server: Any, s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    prefix = registry.store.read_meta("m", 1).extra["data_prefix"]
    bucket, _, base = s3_root[len("s3://") :].partition("/")
    s3_server.client().put_object(Bucket=bucket, Key=f"{base}/{prefix}model.bin", Body=b"not the model")
    report = registry.check()
    assert [p.kind for p in report.problems] == ["integrity"]
    assert not registry.check(repair=True).ok  # a corrupt version is reported, never "fixed"


def test_a_record_naming_another_models_data_is_reported_by_check(s3_server: Any, s3_root: str) -> None:
    """``check`` judges a record's data prefix as a load does: one naming another model's
    data, or none, is a corrupt record, never downloaded and hashed."""
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    registry.save_model(Doubler(), "other")
    bucket, _, base = s3_root[len("s3://") :].partition("/")
    key = f"{base}/models/m/versions/0000000001.json"
    client = s3_server.client()
    record = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    for prefix in (registry.store.read_meta("other", 1).extra["data_prefix"], None):
        client.put_object(Bucket=bucket, Key=key, Body=json.dumps({**record, "data_prefix": prefix}).encode())
        report = registry.check()
        assert [(p.kind, p.version) for p in report.problems] == [("corrupt_meta", 1)]
        assert "data_prefix" in report.problems[0].detail
        with pytest.raises(CorruptRecordError, match="data_prefix"):
            registry.load_model("m/1")


# -- leftovers of writers that died -----------------------------------------------------------


def _leave_debris(s3_server: Any, s3_root: str) -> None:
    """What writers killed at two points leave: data with no record, and a record with no
    head entry."""
    bucket, _, base = s3_root[len("s3://") :].partition("/")
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key=f"{base}/data/m/{'a' * 32}/model.bin", Body=b"half a save")
    record = {"format": 1, "name": "m", "version": 2, "run_id": "0" * 32, "data_prefix": f"data/m/{'b' * 32}/"}
    client.put_object(Bucket=bucket, Key=f"{base}/models/m/versions/0000000002.json", Body=json.dumps(record).encode())
    client.put_object(Bucket=bucket, Key=f"{base}/data/m/{'b' * 32}/model.bin", Body=b"data of it")


def _start_an_upload(s3_server: Any, s3_root: str) -> None:
    """What a writer killed while uploading a large file in parts leaves.  (The test server
    reports every upload as started in 2010, so it is always older than the grace period.)"""
    bucket, _, base = s3_root[len("s3://") :].partition("/")
    s3_server.client().create_multipart_upload(Bucket=bucket, Key=f"{base}/data/m/{'c' * 32}/model.bin")


def test_repair_keeps_young_leftovers_and_removes_them_with_older_than_zero(s3_server: Any, s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    _leave_debris(s3_server, s3_root)
    assert registry.check().ok  # younger than the default grace period: a writer may be alive
    _start_an_upload(s3_server, s3_root)
    report = registry.check(older_than=0)
    assert sorted(p.kind for p in report.problems) == ["abandoned_version", "leftover_data", "leftover_upload"]
    assert registry.check(repair=True, older_than=0).ok
    assert registry.check(older_than=0).problems == []
    assert registry.save_model(Doubler(), "m") == "models:/m/3"  # 2 stays used: never reused
    bucket = s3_root[len("s3://") :].partition("/")[0]
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert not any(f"{'a' * 32}" in k or f"{'b' * 32}" in k for k in keys)


def test_the_cli_check_takes_older_than(s3_server: Any, s3_root: str, capsys) -> None:
    CustomModelRegistry(s3_root).save_model(Doubler(), "m")
    _leave_debris(s3_server, s3_root)
    assert main(["--root", s3_root, "check"]) == EXIT_OK
    assert main(["--root", s3_root, "check", "--older-than", "0"]) == EXIT_PROBLEMS
    assert main(["--root", s3_root, "check", "--repair", "--older-than", "0"]) == EXIT_OK
    capsys.readouterr()
    assert main(["--root", s3_root, "check", "--older-than", "-1"]) != EXIT_OK


# -- moving between backends ------------------------------------------------------------------


def test_copy_a_whole_registry_there_and_back(s3_root: str, tmp_path: Path, capsys) -> None:
    local = CustomModelRegistry(tmp_path / "local")
    for name in ("a", "b"):
        local.save_model(Doubler(), name, tags={"n": name})
        local.save_model(Doubler(2.0), name, stage="Production", aliases=["champion"])
    local.delete_model("a/1")
    local.set_description("b", "model b")
    assert main(["--root", str(local.root), "copy", s3_root]) == EXIT_OK
    assert "copied 3 version(s) of 2 model(s)" in capsys.readouterr().out
    remote = CustomModelRegistry(s3_root)
    assert [v["version"] for v in remote.list_versions("a")] == [2]
    assert remote.get_model("b")["description"] == "model b"
    assert remote.get_model("b")["aliases"] == {"champion": 2}
    assert remote.load_model("b@champion")["model"].factor == 2.0
    assert main(["--root", s3_root, "copy", str(local.root)]) == EXIT_OK  # again: nothing new
    assert "0 version(s)" in capsys.readouterr().out
    back = tmp_path / "back"
    assert main(["--root", s3_root, "copy", str(back)]) == EXIT_OK
    assert CustomModelRegistry(back).get_model("a")["stages"] == {"Production": 2}


def test_a_folder_root_takes_older_than_too(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "r")
    registry.save_model(Doubler(), "m")
    leftover = registry.layout.staging / "save-abandoned"
    leftover.mkdir()
    assert registry.check(repair=True, older_than=3600).ok  # young: kept, as a writer may own it
    assert leftover.exists()
    assert [p.kind for p in registry.check(repair=True, older_than=0).problems] == ["leftover_staging"]
    assert not leftover.exists()
    with pytest.raises(InvalidArgumentError):
        registry.check(older_than=-1)


def test_a_malformed_head_is_a_corrupt_record_naming_it(s3_server: Any, s3_root: str) -> None:
    from fsregistry import CorruptRecordError

    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    registry.list_versions("m")  # this head's bytes are checked and remembered
    bucket, _, base = s3_root[len("s3://") :].partition("/")
    key = f"{base}/models/m/head.json"
    head = json.loads(s3_server.client().get_object(Bucket=bucket, Key=key)["Body"].read())
    head["stages"] = {"Production": 99}  # a holder above every number ever allocated
    s3_server.client().put_object(Bucket=bucket, Key=key, Body=json.dumps(head).encode())
    with pytest.raises(CorruptRecordError, match="stages") as caught:
        registry.resolve("m/Production")
    assert caught.value.path == f"{s3_root}/models/m/head.json"


def test_a_head_write_whose_reply_is_lost_is_still_a_saved_version(s3_root: str) -> None:
    """The server applies the head's replacement, then the connection drops: the save
    finds its version in the head and reports success, not a failure."""
    from fsregistry.storage.s3 import S3Objects

    registry = CustomModelRegistry(s3_root)
    registry.save_model(Doubler(), "m")
    put = S3Objects.put

    def lost_reply(self: S3Objects, key: str, data: bytes, **kwargs: Any) -> str | None:
        tag = put(self, key, data, **kwargs)
        if key.endswith("head.json"):
            raise ObjectStoreError(f"{self.url}: connection reset after the write", path=self.url)
        return tag

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(S3Objects, "put", lost_reply)
        assert registry.save_model(Doubler(7.0), "m") == "models:/m/2"
    assert registry.load_model("m/2")["model"].factor == 7.0
    assert registry.check(older_than=0).ok


def test_the_region_comes_from_aws_region_too(s3_root: str, monkeypatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert CustomModelRegistry(s3_root).store.objects.client.meta.region_name == "eu-north-1"  # type: ignore[union-attr]


def test_a_save_to_object_storage_waits_for_no_local_disk(s3_root: str, monkeypatch) -> None:
    """The staged files are only uploaded: flushing them to this machine's disk is waste."""

    registry = CustomModelRegistry(s3_root)
    flushes: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushes.append(fd), real(fd))[1])
    registry.save_model(Doubler(), "m", preprocessor_artifact={"a": 1})
    assert flushes == []
    assert registry.load_model("m/1")["preprocessor_artifact"] == {"a": 1}


def test_an_unwritable_cache_is_a_permission_error_naming_it(s3_root: str, tmp_path: Path, monkeypatch) -> None:
    """A cache folder this user may not write (as the system reports it: the tests run as
    root, whom modes do not stop) fails the save with the registry's own error."""
    from fsregistry import RegistryPermissionError

    cache = tmp_path / "cache"
    registry = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(cache)})
    mkdir = Path.mkdir

    def refused(self: Path, *args: Any, **kwargs: Any) -> None:
        if self.is_relative_to(cache):
            raise PermissionError(13, "Permission denied", str(self))
        mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    with pytest.raises(RegistryPermissionError, match="cache") as caught:
        registry.save_model(Doubler(), "m")
    assert caught.value.path == str(cache)
    monkeypatch.undo()
    assert registry.list_models() == []


def test_an_s3_root_without_boto3_says_what_to_install(s3_root: str, monkeypatch) -> None:
    from fsregistry import MissingDependencyError

    monkeypatch.setitem(sys.modules, "boto3", None)  # as if it were not installed
    with pytest.raises(MissingDependencyError, match=r"fsregistry\[s3\]"):
        CustomModelRegistry(s3_root)
