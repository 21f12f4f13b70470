"""The committed object-storage registry (``tests/golden/objects1``, the format-1 golden
registry as it lies in a bucket) keeps loading from a real S3 server, and what this version
writes there keeps its shape, so the object layout cannot drift silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_golden_format import CASES
from toy_models import Doubler

from fsregistry import CustomModelRegistry

GOLDEN = Path(__file__).parent / "golden" / "objects1"


@pytest.fixture
def golden(s3_server: Any, s3_env: dict[str, str]) -> CustomModelRegistry:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    for path in GOLDEN.rglob("*"):
        if path.is_file():
            client.put_object(Bucket=bucket, Key=f"golden/{path.relative_to(GOLDEN)}", Body=path.read_bytes())
    return CustomModelRegistry(f"s3://{bucket}/golden", create=False)


def test_golden_objects_load_by_every_identifier(golden: CustomModelRegistry) -> None:
    X = np.ones((2, 2))
    for ident, factor in CASES.items():
        data = golden.load_model(ident)
        np.testing.assert_array_equal(data["model"].predict(X), Doubler(factor).predict(X))
    assert golden.load_model("golden_model/2")["preprocessor_artifact"] == {"feature_names_in": ["x", "n"]}
    assert golden.get_model("golden_model")["tags"] == {"owner": "tests"}
    assert golden.check(older_than=0).ok


def test_what_this_version_writes_keeps_the_golden_shape(golden: CustomModelRegistry, s3_server: Any) -> None:
    golden.save_model(Doubler(4.0), "golden_model", stage="Production")
    bucket = str(golden.root)[len("s3://") :].split("/")[0]
    client = s3_server.client()

    def read(key: str) -> dict[str, Any]:
        return json.loads(client.get_object(Bucket=bucket, Key=f"golden/{key}")["Body"].read())

    head, old_head = (
        read("models/golden_model/head.json"),
        json.loads((GOLDEN / "models/golden_model/head.json").read_bytes()),
    )
    assert head.keys() >= old_head.keys() and head.keys() - old_head.keys() <= {"writes"}  # an optional field
    assert head["versions"]["4"].keys() >= old_head["versions"]["3"].keys() - {"stage_history", "alias_history"}
    record, old_record = (
        read("models/golden_model/versions/0000000004.json"),
        json.loads((GOLDEN / "models/golden_model/versions/0000000003.json").read_bytes()),
    )
    assert record.keys() >= old_record.keys() - {"source", "alias_history"}
    assert record["data_prefix"].startswith("data/golden_model/")
    assert head["stages"]["Production"] == 4 and head["versions"]["2"]["stage"] == "Archived"
