"""The package's imports point down only, as docs/design.md's layer table says.

The table is read from the design document itself (the rows between its
``<!-- layers -->`` markers), so the document and the code cannot drift apart: every
module of the package must be placed in exactly one layer, and no module may import one
of a higher layer or of another package of its own layer (a circle waiting to happen).
Imports inside functions count as much as imports at the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fsregistry"
DESIGN = ROOT / "docs" / "design.md"


def _layers() -> list[list[str]]:
    """Each layer (bottom first) as a list of module or package prefixes."""
    text = DESIGN.read_text()
    block = text.split("<!-- layers -->")[1]
    layers = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            layers.append(re.findall(r"`(fsregistry[\w.]*)`", cells[1]))
    return layers


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _placed(module: str, layers: list[list[str]]) -> tuple[int, str] | None:
    """``(layer, unit)`` of the longest prefix in the table that covers ``module``."""
    best: tuple[int, str] | None = None
    for level, units in enumerate(layers):
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best[1])):
                best = (level, unit)
    return best


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of a module of the package."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("fsregistry")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("fsregistry"):
                continue
            # ``from . import x`` / ``from .pkg import mod``: the names may be modules
            modules = _modules()
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.append((node.lineno, candidate if candidate in modules else target))
    return found


def test_the_layer_table_places_every_module_once() -> None:
    layers = _layers()
    assert len(layers) >= 5, "docs/design.md has no layer table between <!-- layers --> markers"
    units = [u for layer in layers for u in layer]
    assert len(units) == len(set(units)), "a module is placed in two layers"
    unplaced = sorted(m for m in _modules() if m != "fsregistry" and _placed(m, layers) is None)
    assert unplaced == [], f"modules missing from docs/design.md's layer table: {unplaced}"
    for unit in units:
        assert any(m == unit or m.startswith(unit + ".") for m in _modules()), f"{unit} is in the table, not the code"


@pytest.mark.parametrize("module", sorted(m for m in _modules() if m != "fsregistry"))
def test_imports_point_down(module: str) -> None:
    layers = _layers()
    level, unit = _placed(module, layers) or (-1, "")
    upward = []
    for line, target in _imports(module, _modules()[module]):
        if target == "fsregistry":
            upward.append(f"line {line}: imports the package root")
            continue
        placed = _placed(target, layers)
        if placed is None:
            continue  # not a module (a name imported from a package's __init__ is checked there)
        target_level, target_unit = placed
        if target_unit == unit:
            continue  # within one unit (a package's own modules)
        if target_level >= level:
            upward.append(f"line {line}: {target} (layer {target_level}) from layer {level}")
    assert upward == [], f"{module} imports upward or sideways: {upward}"
