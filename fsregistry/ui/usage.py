"""The "how to use this version" panel: copyable snippets (issue 14).

Loading with ``load_model``, predicting with ``ModelPredictor``, the ``fsregistry
predict`` command, and the exact package requirements from the environment the version
was saved in.  Every snippet names the version by its number (``models:/NAME/3``), which
never moves; a stage or an alias would follow later promotions.  Values reach Python and
shell code quoted (``json.dumps``, ``shlex.quote``), so a snippet stays what it looks like.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from ..config import ENV_ROOT
from .data import Snippet

#: where a snippet says the registry is when its location is not shown (a static export)
PLACEHOLDER_ROOT = "/path/to/registry"
#: input columns named in the predict snippet's comment
MAX_COLUMNS_NAMED = 8


def snippets(info: Mapping[str, Any], *, root: str | None) -> list[Snippet]:
    """The panel's snippets for a version (``get_model_version``'s dict); ``root`` is the
    registry's location, or ``None`` to write a placeholder."""
    uri = f"models:/{info['name']}/{int(info['version'])}"
    place = root if root is not None else PLACEHOLDER_ROOT
    out = [_load(uri, place, bool(info.get("has_preprocessor"))), _predict(uri, place, info), _cli(uri, root)]
    requirements = requirements_text(info.get("environment") or {})
    if requirements:
        out.append(Snippet("Requirements (as saved)", "text", requirements, "pip install -r requirements.txt"))
    return out


def _load(uri: str, root: str, has_preprocessor: bool) -> Snippet:
    lines = [
        "from fsregistry import CustomModelRegistry",
        "",
        f"registry = CustomModelRegistry({json.dumps(root)})",
        f"loaded = registry.load_model({json.dumps(uri)})",
        'model = loaded["model"]',
    ]
    if has_preprocessor:
        lines.append('preprocessor = loaded["preprocessor_artifact"]')
    return Snippet("Load the model", "python", "\n".join(lines))


def _predict(uri: str, root: str, info: Mapping[str, Any]) -> Snippet:
    signature = info.get("signature")
    # each name as a JSON string: a name holding a newline cannot end the comment (control
    # characters are escaped; other text, accented or not, is shown as it is)
    columns = [json.dumps(str(c.name), ensure_ascii=False) for c in getattr(signature, "inputs", ())]
    shown = ", ".join(columns[:MAX_COLUMNS_NAMED]) + (", ..." if len(columns) > MAX_COLUMNS_NAMED else "")
    comment = f"  # a DataFrame with columns {shown}" if columns else "  # a DataFrame or an array"
    lines = [
        "from fsregistry import CustomModelRegistry, ModelPredictor",
        "",
        f"predictor = ModelPredictor(CustomModelRegistry({json.dumps(root)}))",
        f"predictor.load_model({json.dumps(uri)})",
        f"predictions = predictor.predict(frame){comment}",
    ]
    return Snippet("Predict with ModelPredictor", "python", "\n".join(lines))


def _cli(uri: str, root: str | None) -> Snippet:
    where = f"--root {shlex.quote(root)} " if root is not None else ""
    note = "" if root is not None else f"set {ENV_ROOT} to the registry's folder, or pass --root"
    text = f"fsregistry {where}predict {shlex.quote(uri)} input.csv predictions.csv"
    return Snippet("Predict a CSV or Parquet file", "shell", text, note)


def requirements_text(environment: Mapping[str, Any]) -> str:
    """``package==version`` lines for every package recorded as installed at save time,
    after a comment naming the Python it ran on; empty when nothing was recorded."""
    packages = environment.get("packages") or {}
    # Only what pip reads as a pin: a record may come from an edited bundle, and a "name"
    # such as "--extra-index-url URL" would make the copied file an install instruction.
    pins = [
        f"{name}=={version}"
        for name, version in sorted(packages.items())
        if isinstance(name, str) and isinstance(version, str) and _NAME.fullmatch(name) and _VERSION.fullmatch(version)
    ]
    if not pins:
        return ""
    python = " ".join(str(environment[k]) for k in ("python", "implementation") if environment.get(k))
    python = " ".join(python.split())  # one line: the comment cannot be ended early
    header = [f"# saved with Python {python}"] if python else []
    return "\n".join([*header, *pins])


#: a distribution name (PEP 508) and a version (PEP 440's characters): nothing else is pinned
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]*")
