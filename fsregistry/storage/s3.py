"""An :class:`~fsregistry.storage.objects.ObjectStore` on S3 or any S3-compatible server
(MinIO, Ceph RGW, ...), through boto3.

Why boto3: it sends S3's conditional writes (``IfNoneMatch``/``IfMatch`` on ``PutObject``),
it reads endpoint, region and credentials from the standard AWS environment variables and
config files as every S3 tool does, it uploads and downloads large files in parallel parts,
and its event hooks let the benchmarks count requests.  It is the ``[s3]`` extra and is
imported only when an ``s3://`` root is opened.

Every failure becomes one :class:`~fsregistry.errors.ObjectStoreError` whose message names
the root URL as the user gave it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, MissingDependencyError, ObjectStoreError
from .objects import Blob, Listed, Upload, parse_url

#: what ``storage_options`` may hold for an ``s3://`` root (everything else is refused);
#: each falls back to the standard AWS variables and config files when absent
S3_OPTIONS = (
    "endpoint_url",
    "region",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "profile",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
)

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
#: parts above this size are uploaded and downloaded in parallel
_MULTIPART = 64 * 1024 * 1024
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict"}


class S3Objects:
    """A bucket and key prefix on an S3-compatible server.  ``requests`` counts every HTTP
    request sent (retries included), for the benchmarks."""

    def __init__(self, url: str, options: dict[str, Any] | None = None, *, taken: tuple[str, ...] = ()) -> None:
        """``taken``: options the caller took out of ``options`` before (the content
        cache's), listed with the known ones when an option is unknown."""
        self.url = url
        scheme, self.bucket, prefix = parse_url(url)
        if scheme != "s3" or not _BUCKET.fullmatch(self.bucket):
            raise InvalidArgumentError(f"{url!r} is not an s3://BUCKET[/PREFIX] URL with a valid bucket name")
        self.prefix = f"{prefix}/" if prefix else ""
        options = dict(options or {})
        unknown = sorted(set(options) - set(S3_OPTIONS))
        if unknown:
            raise InvalidArgumentError(
                f"unknown storage option(s) {', '.join(unknown)} for {url}; known: {', '.join((*S3_OPTIONS, *taken))}"
            )
        self.requests = 0
        self._local = threading.local()
        self.endpoint = str(options.get("endpoint_url") or os.environ.get("AWS_ENDPOINT_URL") or "the default endpoint")
        self.client = self._client(options)
        self.endpoint = str(self.client.meta.endpoint_url)

    def _client(self, options: dict[str, Any]) -> Any:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise MissingDependencyError(
                f"an s3:// root ({self.url}) needs boto3: pip install 'fsregistry[s3]'"
            ) from exc
        config = Config(
            connect_timeout=_number(options, "connect_timeout", 5.0),
            read_timeout=_number(options, "read_timeout", 60.0),
            retries={"max_attempts": _attempts(options), "mode": "standard"},
            # path-style addressing works with every S3-compatible server; AWS accepts it too
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        with self._errors("connect to"):  # a profile that does not exist, a broken config file...
            session = boto3.session.Session(
                aws_access_key_id=options.get("access_key_id"),
                aws_secret_access_key=options.get("secret_access_key"),
                aws_session_token=options.get("session_token"),
                region_name=options.get("region"),
                profile_name=options.get("profile"),
            )
            # boto3 reads AWS_DEFAULT_REGION and the config files; other AWS SDKs read AWS_REGION
            region = options.get("region") or session.region_name or os.environ.get("AWS_REGION") or "us-east-1"
            client = session.client("s3", endpoint_url=options.get("endpoint_url"), region_name=region, config=config)
        client.meta.events.register("before-send.s3", self._count)
        return client

    def _count(self, **_: Any) -> None:
        self.requests += 1

    def _key(self, key: str) -> str:
        return self.prefix + key

    # == the ObjectStore operations ===========================================================

    def get(self, key: str) -> Blob | None:
        with self._errors("read", key):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            except self.client.exceptions.NoSuchKey:
                return None
            return Blob(response["Body"].read(), str(response["ETag"]))

    def put(self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None) -> str | None:
        conditions: dict[str, str] = {}
        if if_absent:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = if_match
        self._local.retried = False
        with self._errors("write", key):
            try:
                response = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **conditions)
            except Exception as exc:
                code = _code(exc)
                if conditions and (code in _CONFLICT or (if_match is not None and code == "NoSuchKey")):
                    metadata = getattr(exc, "response", {}).get("ResponseMetadata") or {}
                    self._local.retried = bool(metadata.get("RetryAttempts"))
                    return None
                raise
            return str(response["ETag"])

    def refusal_was_retried(self) -> bool:
        """Whether this thread's last refused :meth:`put` had been sent more than once (its
        first attempt may have landed, and the refusal answered the retry)."""
        return bool(getattr(self._local, "retried", False))

    def upload(self, key: str, path: Path) -> None:
        with self._errors("upload", key):
            self.client.upload_file(str(path), self.bucket, self._key(key), Config=self._transfer())

    def download(self, key: str, path: Path) -> None:
        with self._errors("download", key):
            self.client.download_file(self.bucket, self._key(key), str(path), Config=self._transfer())

    def listing(self, prefix: str) -> Iterator[Listed]:
        start = len(self.prefix)
        with self._errors("list", prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
            for page in pages:
                for item in page.get("Contents") or ():
                    yield Listed(str(item["Key"])[start:], int(item["Size"]), item["LastModified"].timestamp())

    def list_folders(self, prefix: str) -> list[str]:
        full = self._key(prefix)
        names = []
        with self._errors("list", prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes") or ():
                    names.append(str(common["Prefix"])[len(full) :].rstrip("/"))
        return names

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # S3 deletes at most 1,000 keys per request
            batch = [{"Key": self._key(k)} for k in keys[start : start + 1000]]
            with self._errors("delete", keys[start]):
                response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            failed = response.get("Errors") or []
            if failed:
                first = failed[0]
                raise ObjectStoreError(
                    f"{self.url}: could not delete {len(failed)} object(s), e.g. {first.get('Key')} "
                    f"({first.get('Code')}: {first.get('Message')})",
                    path=self.url,
                )

    def unfinished_uploads(self, prefix: str) -> list[Upload]:
        start = len(self.prefix)
        found = []
        with self._errors("list uploads under", prefix):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                for item in page.get("Uploads") or ():
                    found.append(Upload(str(item["Key"])[start:], str(item["UploadId"]), item["Initiated"].timestamp()))
        return found

    def abort_upload(self, upload: Upload) -> None:
        with self._errors("abort the upload of", upload.key):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(upload.key), UploadId=upload.upload_id)

    # == helpers ===============================================================================

    def _transfer(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(multipart_threshold=_MULTIPART, multipart_chunksize=_MULTIPART // 4)

    @contextmanager
    def _errors(self, action: str, key: str = "") -> Iterator[None]:
        """Turn whatever boto3 raises into one :class:`ObjectStoreError` naming the root."""
        try:
            yield
        except ObjectStoreError:
            raise
        except Exception as exc:
            message = self._explain(exc, action, key)
            if message is None:
                raise
            raise ObjectStoreError(message, path=self.url) from exc

    def _explain(self, exc: Exception, action: str, key: str) -> str | None:
        from botocore import exceptions as bexc

        cause = exc.__cause__ or exc.__context__
        if type(exc).__name__ == "S3UploadFailedError" and isinstance(cause, Exception):
            exc = cause  # boto3's transfer wraps the server's answer: explain that
        where = f"{self.url} ({action} {key})" if key else f"{self.url} ({action})"
        code = _code(exc)
        if code == "NoSuchBucket":
            return f"{self.url}: the bucket {self.bucket!r} does not exist at {self.endpoint}"
        if code in _DENIED or code in ("403", "Forbidden"):
            return (
                f"{self.url}: the server at {self.endpoint} refused the credentials ({code}); check "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or storage_options"
            )
        if isinstance(exc, bexc.NoCredentialsError):
            return (
                f"{self.url}: no credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or an AWS profile), or pass them in storage_options"
            )
        if isinstance(exc, (bexc.EndpointConnectionError, bexc.ConnectionClosedError, bexc.ConnectTimeoutError)):
            return f"{self.url}: cannot reach the endpoint {self.endpoint} ({exc})"
        if isinstance(exc, (bexc.BotoCoreError, bexc.ClientError)) or type(exc).__module__.startswith(
            ("boto3", "s3transfer")
        ):
            return f"{where} failed: {exc}"
        if isinstance(exc, (OSError, ValueError)) and not isinstance(exc, FileNotFoundError):
            return f"{where} failed: {exc}"
        return None


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or "")
    return ""


def _number(options: dict[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise InvalidArgumentError(f"storage option {key} must be a number of seconds > 0, got {value!r}")
    return float(value)


def _attempts(options: dict[str, Any]) -> int:
    value = options.get("max_attempts", 3)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"storage option max_attempts must be a whole number >= 1, got {value!r}")
    return value
