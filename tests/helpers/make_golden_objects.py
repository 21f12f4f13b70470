"""Write ``tests/golden/objects1``: the format-1 golden registry (``tests/golden/format1``)
copied into object storage, each object saved as a file at its key.  Run once, by hand,
when the object layout is created (never to make a failing test pass):

    python tests/helpers/make_golden_objects.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from s3_server import S3Server

from fsregistry import CustomModelRegistry
from fsregistry.copying import copy_registry

TESTS = Path(__file__).resolve().parents[1]
OUT = TESTS / "golden" / "objects1"


def main() -> None:
    server = S3Server().start()
    try:
        os.environ.update(server.env())
        bucket = server.new_bucket()
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "golden"
            shutil.copytree(TESTS / "golden" / "format1", source)
            os.environ["FSREGISTRY_CACHE_DIR"] = str(Path(tmp) / "cache")
            copy_registry(CustomModelRegistry(source, create=False), CustomModelRegistry(f"s3://{bucket}/golden"))
        shutil.rmtree(OUT, ignore_errors=True)
        client = server.client()
        for item in client.list_objects_v2(Bucket=bucket, Prefix="golden/")["Contents"]:
            target = OUT / item["Key"][len("golden/") :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
    finally:
        server.stop()
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
