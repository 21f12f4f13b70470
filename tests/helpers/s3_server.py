"""A real S3-compatible server on 127.0.0.1 for the object-storage tests: moto in server mode.

moto checks a write's condition (``If-None-Match``/``If-Match``) and then writes, with no
lock between: two racing conditional writes can both succeed, which real S3 never allows.
So every request is handled under one lock here (:class:`AtomicApp`), making the server
atomic per request as S3 is; ``tests/test_s3_server.py`` checks that guarantee with forced
thread switches before the registry relies on it.

The server runs in a thread of the test process and keeps its buckets in moto's in-process
backend, so :meth:`S3Server.stop` followed by :meth:`S3Server.start` is a restart that
keeps the data, as a real server's restart does.
"""

from __future__ import annotations

import socket
import threading
import uuid
from typing import Any

BUCKET_PREFIX = "fsr-test"


class AtomicApp:
    """The moto WSGI app, one request at a time (the response is read under the lock)."""

    def __init__(self) -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app

        self.app = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Lock()
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            self.requests += 1
            return [b"".join(self.app(environ, start_response))]


class S3Server:
    """Start, stop and restart the server on one port; make buckets."""

    def __init__(self, app: Any = None) -> None:
        self.app = app if app is not None else AtomicApp()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._switch = threading.Lock()  # stop() may be called from several threads at once

    def start(self) -> S3Server:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log(self, *args: Any) -> None:
                pass

        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True, request_handler=Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="s3-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._switch:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None
            if self._thread is not None:
                self._thread.join(timeout=30)
                self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def new_bucket(self) -> str:
        name = f"{BUCKET_PREFIX}-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """The standard AWS variables pointing at this server (as a user would set them)."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
