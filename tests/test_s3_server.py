"""The test S3 server itself: conditional writes are atomic, as on real S3.

The registry's guarantees on object storage rest on two promises of the server: of many
concurrent ``If-None-Match: *`` writes of one key exactly one succeeds, and of many
``If-Match`` writes carrying the same entity tag exactly one succeeds.  moto alone breaks
both under forced thread switches; the server of ``tests/helpers/s3_server.py`` handles one
request at a time.  These tests force a thread switch every microsecond, so that a server
that checked and wrote in two steps would be caught."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

WRITERS = 32
ROUNDS = 20


@pytest.fixture
def switchy() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _race(attempt: Callable[[int], bool]) -> int:
    """Run ``attempt`` in ``WRITERS`` threads released at once; how many succeeded."""
    start = threading.Barrier(WRITERS)
    wins: list[int] = []

    def run(i: int) -> None:
        start.wait()
        if attempt(i):
            wins.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(wins)


def _clients(s3_server: Any) -> list[Any]:
    return [s3_server.client() for _ in range(WRITERS)]


def _precondition_failed(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return code in ("PreconditionFailed", "ConditionalRequestConflict")


def test_create_if_absent_has_exactly_one_winner(s3_server: Any, switchy: None) -> None:
    bucket = s3_server.new_bucket()
    clients = _clients(s3_server)
    for round_ in range(ROUNDS):
        key = f"k{round_}"

        def attempt(i: int, key: str = key) -> bool:
            try:
                clients[i].put_object(Bucket=bucket, Key=key, Body=str(i).encode(), IfNoneMatch="*")
                return True
            except Exception as exc:
                assert _precondition_failed(exc), exc
                return False

        assert _race(attempt) == 1


def test_replace_if_unchanged_has_exactly_one_winner(s3_server: Any, switchy: None) -> None:
    bucket = s3_server.new_bucket()
    clients = _clients(s3_server)
    for round_ in range(ROUNDS):
        key = f"k{round_}"
        etag = clients[0].put_object(Bucket=bucket, Key=key, Body=b"start")["ETag"]

        def attempt(i: int, key: str = key, etag: str = etag) -> bool:
            try:
                clients[i].put_object(Bucket=bucket, Key=key, Body=f"writer {i}".encode(), IfMatch=etag)
                return True
            except Exception as exc:
                assert _precondition_failed(exc), exc
                return False

        assert _race(attempt) == 1


def test_the_server_restarts_with_its_data(s3_server: Any) -> None:
    bucket = s3_server.new_bucket()
    s3_server.client().put_object(Bucket=bucket, Key="kept", Body=b"1")
    s3_server.stop()
    s3_server.start()
    assert s3_server.client().get_object(Bucket=bucket, Key="kept")["Body"].read() == b"1"
