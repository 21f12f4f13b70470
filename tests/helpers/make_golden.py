"""Writes the committed golden registry of on-disk format 1 (``tests/golden/format1``).

Run once, by hand, when a new format is introduced: ``python tests/helpers/make_golden.py DEST``.
The format-1 registry committed under tests/golden must never be regenerated - it is
what proves that later versions of fsregistry keep reading format 1.
"""

from __future__ import annotations

import sys

import pandas as pd
from toy_models import Doubler

from fsregistry import CustomModelRegistry


def main(dest: str) -> None:
    registry = CustomModelRegistry(dest)
    example = pd.DataFrame({"x": [1.0], "n": [2], "team": ["BOS"]})
    for factor in (1.0, 2.0, 3.0, 4.0):
        registry.save_model(
            Doubler(factor),
            "golden_model",
            preprocessor_artifact={"feature_names_in": ["x", "n"]},
            input_example=example,
            metadata={"fold": 0, "accuracy": 0.5 + factor / 10},
            tags={"framework": "toy"},
            description=f"factor {factor}",
        )
    registry.transition_model_stage("golden_model/2", "Production")
    registry.transition_model_stage("golden_model/3", "Staging")
    registry.set_alias("golden_model", "champion", 2)
    registry.set_tag("golden_model", "owner", "tests")
    registry.delete_model("golden_model/4")
    registry.save_model(Doubler(10.0), "other")


if __name__ == "__main__":
    main(sys.argv[1])
