"""Type checkers see the installed package, and its types catch users' mistakes.

mypy runs on a user's script in a folder of its own (not the checkout), against the
interpreter running the tests, as a user's editor or CI would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_SCRIPT = """
from fsregistry import CustomModelRegistry, ModelPredictor, RegistryError

registry = CustomModelRegistry("/tmp/registry")
uri: str = registry.save_model({"weights": [1, 2]}, "m", tags={"team": "a"})
info = registry.get_model_version(uri)
predictor = ModelPredictor(registry).load_model(uri)
try:
    registry.transition_model_stage(uri, "Production")
except RegistryError as exc:
    print(exc.name, exc.path)
wrong: int = registry.save_model({"weights": [1, 2]}, "m")
data = registry.load_model(uri)
stage: str | None = data["stage"]
auc = data["metadata"]["metrics"]["auc"]
model = data["modle"]
report = predictor.validate_input([[1.0, 2.0]])
ok: bool = report["valid"]
kind: str = predictor.get_model_info()["task"]
registry.transition_model_stage(uri, "Prodution")
"""


def test_mypy_sees_the_package_and_its_types(tmp_path: Path) -> None:
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent(USER_SCRIPT))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--python-executable", sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert "Cannot find implementation or library stub" not in done.stdout, done.stdout
    # exactly the three real mistakes are found: save_model returns a str, a misspelt key,
    # and a misspelt stage
    assert len(lines) == 3, done.stdout
    assert "user.py:12:" in lines[0] and '"str"' in lines[0], done.stdout
    assert "user.py:16:" in lines[1] and '"modle"' in lines[1], done.stdout
    assert "user.py:20:" in lines[2] and "Literal['Prodution']" in lines[2], done.stdout
