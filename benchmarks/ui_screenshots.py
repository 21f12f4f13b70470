"""Screenshots of every kind of page of the model browser, at 1400 and 800 pixels wide.

Run: ``python benchmarks/ui_screenshots.py OUT_DIR [--root REGISTRY] [--export]``.

Without ``--root`` it builds the test suite's layout registry (long names, long unbroken
text, eight realistically named metrics, 130 versions, hostile strings) in a temporary
folder.  It serves the registry on 127.0.0.1 (or, with ``--export``, writes the static
export and opens it from ``file://``), drives Debian's headless Chromium through
chromedriver (``apt-get install chromium chromium-driver``), and writes one full-page PNG
per page and width: ``models-1400.png``, ``model-800.png``, ``compare-1400.png``, ...
Nothing is fetched from the network.  The PNGs are for people to look at; they are not
committed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
from ui_demo import LAYOUT_PRODUCTION, LONG_MODEL, build_layout_registry, running

from fsregistry import CustomModelRegistry
from fsregistry.ui import export_site
from fsregistry.ui.links import Links

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTHS = (1400, 800)
#: the tallest screenshot taken (longer pages are cut here)
MAX_HEIGHT = 9000


def page_paths(registry: CustomModelRegistry, links: Links) -> dict[str, str]:
    """Each kind of page, for the registry's model with the most versions."""
    model = max(registry.list_models(), key=lambda m: int(m["versions"]))
    name = str(model["name"])
    numbers = sorted(int(v["version"]) for v in registry.list_versions(name))
    production = (model.get("stages") or {}).get("Production") or numbers[0]
    newest = numbers[-1]
    return {
        "models": links.home(),
        "model": links.model(name),
        "version": links.version(name, newest),
        "compare": links.compare(name, [production, newest, numbers[0]]),
        "history": links.history(name),
        "search": links.search() + "?q=stage%3DProduction",
    }


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a throw-away profile; quit on exit."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        raise SystemExit(f"needs Debian's chromium and chromium-driver; missing {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-proxy-server",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def shoot(driver: webdriver.Chrome, url: str, width: int, path: Path) -> None:
    """A full-page screenshot of ``url`` with the viewport ``width`` pixels wide."""
    driver.set_window_size(width, 900)
    driver.get(url)
    inner = int(driver.execute_script("return window.innerWidth"))
    driver.set_window_size(width + (width - inner), 900)  # the viewport, not the window, is `width` wide
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    frame = int(driver.execute_script("return window.outerHeight - window.innerHeight"))
    driver.set_window_size(width + (width - inner), min(height, MAX_HEIGHT) + frame)
    driver.save_screenshot(str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNGs (created)")
    parser.add_argument("--root", type=Path, help="an existing registry (default: build the layout demo)")
    parser.add_argument("--export", action="store_true", help="shoot the static export over file:// instead")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        if args.root is not None:
            registry = CustomModelRegistry(args.root, create=False)
        else:
            print(f"building the layout registry ({LONG_MODEL[:30]}..., Production v{LAYOUT_PRODUCTION})")
            registry = build_layout_registry(Path(work) / "registry")
        if args.export:
            site = export_site(registry, Path(work) / "site")
            base = site.as_uri() + "/"
            shots = page_paths(registry, Links.exported(0))
            _shoot_all(base, shots, args.out)
        else:
            with running(registry) as server:
                shots = {kind: path.lstrip("/") for kind, path in page_paths(registry, Links()).items()}
                _shoot_all(server.url, shots, args.out)
    return 0


def _shoot_all(base: str, shots: dict[str, str], out: Path) -> None:
    with chromium() as driver:
        for kind, path in shots.items():
            for width in WIDTHS:
                target = out / f"{kind}-{width}.png"
                shoot(driver, base + path, width, target)
                print(f"{target}  ({base + path})")


if __name__ == "__main__":
    raise SystemExit(main())
