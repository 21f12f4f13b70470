"""The environment record: the version of the module actually imported and the distribution
that provides it, compared as versions (issue 13, item 1).

The alternative distribution name is tested for real: a wheel of a tiny framework module
``fakefw``, shipped as the distribution ``fakefw-cpu`` with a local version label (as
``xgboost-cpu`` ships ``xgboost`` and the CPU builds of torch carry ``+cpu``), is built in
``tmp_path`` and installed offline by pip into a virtual environment the test makes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import sysconfig
import textwrap
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import PYTHON, subprocess_env
from toy_models import Doubler

from fsregistry import CustomModelRegistry, EnvironmentMismatchWarning
from fsregistry.records import environment
from fsregistry.storage import files

REPO = Path(__file__).resolve().parent.parent


def build_wheel(folder: Path, distribution: str, module: str, version: str) -> Path:
    """A pure-Python wheel of ``module`` (with ``__version__``) named ``distribution``."""
    stem = f"{distribution.replace('-', '_')}-{version}"
    contents = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n",
        f"{stem}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n",
        f"{stem}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{stem}.dist-info/top_level.txt": f"{module}\n",
    }
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()},"
        f"{len(text.encode())}"
        for name, text in contents.items()
    ]
    contents[f"{stem}.dist-info/RECORD"] = "\n".join([*record, f"{stem}.dist-info/RECORD,,", ""])
    wheel = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in contents.items():
            archive.writestr(name, text)
    return wheel


def make_venv(folder: Path, *wheels: Path) -> Path:
    """A virtual environment with ``wheels`` installed offline; fsregistry and the test
    environment's packages are reachable through a ``.pth`` file (nothing is downloaded)."""
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=300)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout.strip()
    (Path(site) / "zz_fsregistry_test.pth").write_text(f"{REPO}\n{sysconfig.get_paths()['purelib']}\n")
    pip = [PYTHON, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "install", "--no-index", "--no-deps", *map(str, wheels)], check=True, timeout=300)
    return python


CHECK = textwrap.dedent("""
    import json, sys, warnings
    from fsregistry.records import environment

    def run():
        before = environment.capture(["fakefw"])  # located, not imported
        assert "fakefw" not in sys.modules
        import fakefw  # noqa: F401
        environment.installed.cache_clear()
        saved_with_fakefw = {"packages": {"fakefw": "1.0"}}  # format 1: keyed by distribution name
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            environment.warn_on_mismatch({"packages": {"fakefw": "0.9"}}, what="model m/1")
        return {
            "record": before,
            "after_import": environment.capture(["fakefw"]),
            "format1_same": environment.differences(saved_with_fakefw),
            "format1_other": environment.differences({"packages": {"fakefw": "0.9"}}),
            "cuda_build": environment.differences(
                {"format": 2, "packages": {"fakefw": "1.0+cu121"}, "distributions": {"fakefw": "fakefw"}}
            ),
            "warning": [str(w.message) for w in caught],
        }

    print(json.dumps(run()))
""")


@pytest.mark.slow
def test_a_module_from_another_distribution_is_recorded_and_compared_by_version(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "fakefw-cpu", "fakefw", "1.0+cpu")
    python = make_venv(tmp_path / "venv", wheel)
    done = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, timeout=300, env=subprocess_env())
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    record = found["record"]
    assert record["format"] == 2
    assert record["packages"]["fakefw"] == "1.0+cpu" and record["distributions"]["fakefw"] == "fakefw-cpu"
    assert found["after_import"]["packages"] == record["packages"]
    assert found["after_import"]["distributions"] == record["distributions"]
    assert found["format1_same"] == {}  # saved with the `fakefw` distribution 1.0: no false warning
    assert found["cuda_build"] == {}  # another build of the same release
    assert found["format1_other"] == {"fakefw": ["0.9", "1.0+cpu"]}
    assert found["warning"] == [
        "model m/1: package versions differ from when it was saved: fakefw saved with 0.9, "
        "installed 1.0+cpu (from fakefw-cpu)"
    ]


def test_the_imported_frameworks_are_recorded_with_their_distribution() -> None:
    import torch
    import xgboost

    record = environment.capture(["xgboost", "torch"])
    assert record["format"] == 2
    assert record["packages"]["xgboost"] == xgboost.__version__
    assert record["packages"]["torch"] == str(torch.__version__)  # e.g. 2.13.0+cpu
    assert record["distributions"]["torch"] == "torch"
    import sklearn

    assert record["packages"]["scikit-learn"] == sklearn.__version__  # the module is sklearn
    assert record["distributions"]["scikit-learn"] == "scikit-learn"


def test_a_package_that_is_not_installed_is_recorded_as_none_and_never_reported() -> None:
    record = environment.capture(["no-such-framework-here"])
    assert record["packages"]["no-such-framework-here"] is None
    assert record["distributions"]["no-such-framework-here"] is None
    assert environment.differences({"packages": {"no-such-framework-here": None}}) == {}
    assert environment.differences({"packages": {"no-such-framework-here": "1.0"}}) == {
        "no-such-framework-here": ("1.0", None)
    }


@pytest.mark.parametrize(
    ("saved", "now", "same"),
    [
        ("2.13.0+cpu", "2.13.0+cu121", True),
        ("2.13.0+cpu", "2.13.0", True),
        ("3.2", "3.2.0", True),
        ("3.2.0", "3.2.1", False),
        ("3.2.0rc1", "3.2.0", False),
        ("1.0.post1", "1.0", False),
        ("1.0", None, False),
    ],
)
def test_versions_are_compared_as_releases(saved: str, now: str | None, same: bool) -> None:
    assert environment.same_version(saved, now) is same


def _load_quietly(registry: CustomModelRegistry, identifier: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", EnvironmentMismatchWarning)
        return registry.load_model(identifier)


def test_an_old_record_keyed_by_distribution_name_loads_without_a_false_warning(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    meta_path = registry.layout.meta_file("m", 1)
    meta = files.read_json(meta_path)
    assert meta["environment"]["format"] == 2 and meta["environment"]["distributions"]["numpy"] == "numpy"
    old = {k: v for k, v in meta["environment"].items() if k not in ("format", "distributions")}
    old["packages"] = {**old["packages"], "torch": environment.package_version("torch") + "+cu121"}
    meta["environment"] = old  # as format 1 wrote it, saved with a CUDA build of the same torch
    files.write_json_atomic(meta_path, meta)
    _load_quietly(registry, "m/1")
    meta["environment"]["packages"]["scikit-learn"] = "0.0.1"
    files.write_json_atomic(meta_path, meta)
    with pytest.warns(EnvironmentMismatchWarning, match=r"scikit-learn saved with 0\.0\.1, installed \d"):
        registry.load_model("m/1")


def test_capture_imports_nothing() -> None:
    code = (
        "import sys; from fsregistry.records import environment; environment.capture(['xgboost', 'torch']); "
        "print(sorted({'xgboost', 'torch', 'sklearn'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_show_names_the_distribution_that_provided_a_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fsregistry.cli import EXIT_OK, main

    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    meta_path = registry.layout.meta_file("m", 1)
    meta = files.read_json(meta_path)
    meta["environment"]["packages"]["xgboost"] = "3.2.0"
    meta["environment"]["distributions"]["xgboost"] = "xgboost-cpu"
    files.write_json_atomic(meta_path, meta)
    capsys.readouterr()
    assert main(["--root", str(registry.root), "show", "m/1"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines if line.strip().startswith("xgboost")] == [
        ["xgboost", "3.2.0", "(from", "xgboost-cpu)"]
    ]
    assert next(line.split() for line in lines if line.strip().startswith("numpy"))[2:] == []  # its own name
