"""The committed format-1 registry (``tests/golden/format1``) keeps loading, and what this
version writes still has format 1's shape - so the on-disk format cannot drift silently."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry

GOLDEN = Path(__file__).parent / "golden" / "format1"


@pytest.fixture
def golden(tmp_path: Path) -> CustomModelRegistry:
    root = tmp_path / "golden"
    shutil.copytree(GOLDEN, root)
    return CustomModelRegistry(root, create=False)


#: every kind of identifier, and the factor of the Doubler each names in the golden registry
CASES = {
    "golden_model/1": 1.0,
    "models:/golden_model/Production": 2.0,
    "models:/golden_model/staging": 3.0,
    "models:/golden_model@champion": 2.0,
    "golden_model/latest": 3.0,
    "models:/other/1": 10.0,
}


def test_golden_registry_loads_by_every_identifier(golden: CustomModelRegistry) -> None:
    X = np.ones((2, 2))
    for ident, factor in CASES.items():
        data = golden.load_model(ident)
        np.testing.assert_array_equal(data["model"].predict(X), Doubler(factor).predict(X))
    data = golden.load_model("golden_model/2")
    assert data["preprocessor_artifact"] == {"feature_names_in": ["x", "n"]}
    assert data["metadata"]["metrics"] == {"accuracy": 0.7}
    assert data["signature"].column_names == ["x", "n", "team"]
    assert data["run_id"] and golden.load_model(f"runs:/{data['run_id']}/model")["version"] == 2
    assert golden.get_model("golden_model")["tags"] == {"owner": "tests"}


def test_golden_registry_is_clean_and_keeps_its_counter(golden: CustomModelRegistry) -> None:
    assert golden.check().problems == []
    assert golden.save_model(Doubler(), "golden_model") == "models:/golden_model/5"  # 4 was deleted


def test_new_writes_keep_format_1_shape(golden: CustomModelRegistry) -> None:
    golden.save_model(Doubler(), "fresh", preprocessor_artifact={"a": 1}, input_example=np.ones((1, 2)))
    old = json.loads(golden.layout.meta_file("golden_model", 1).read_text())
    new = json.loads(golden.layout.meta_file("fresh", 1).read_text())
    assert new["format"] == old["format"] == 1
    # who saved it (created_by) is the one optional field added since; readers of format 1
    # keep fields they do not know, so older fsregistry versions read these records too
    assert set(new) == set(old) | {"created_by"}, "meta.json fields changed: bump the format version"
    assert set(new["model"]) == set(old["model"])
    # index.json is a cache; its additions since the golden registry was written are
    # optional: indexed_through (absent means "every version is in the chunks"), and
    # claim_seq / applied_seq (absent means no claim has an order number yet)
    added = {"index.json": {"indexed_through", "claim_seq", "applied_seq"}, "model.json": set()}
    for name, new_keys in added.items():
        old_keys = set(json.loads((golden.root / "golden_model" / name).read_text()))
        assert set(json.loads((golden.root / "fresh" / name).read_text())) == old_keys | new_keys
