"""Model browser benchmark: the page of a 2,000-version model against a 10-version one.

Run: ``python benchmarks/bench_ui.py [--versions 2000] [--rounds 30] [--root DIR] [--no-browser]``.

Issue 14's targets: the model page of a 2,000-version model under 300 KB, and its server
time within 2x of a 10-version model's.  Both models have the same shape (six
realistically named metrics, three tags, a description); the registry is built in a
temporary folder unless ``--root`` names one to build in or reuse.  Measured in this one
run, the two pages interleaved round by round so they share the machine's noise:

* **size**: bytes of each page as served (the static export writes the same page);
* **server, warm**: a GET of each page over loopback, as a reader reloading it: the
  server re-reads the model's summary and serves what it built while that summary is
  unchanged (see ``fsregistry/ui/cache.py``);
* **server, cold**: the same GET right after the server forgot everything, as after any
  change to the model: reading the listing (``list_versions``) and drawing the page;
* **drawing only**: building and rendering the page from a listing already read, which
  is the browser's own share of a cold request;
* **browser** (unless ``--no-browser``): headless Chromium's time from navigation to the
  end of the load event, the versions table drawn, median of a few loads.

Prints a markdown table of medians and the ratios.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsregistry import CustomModelRegistry
from fsregistry.ui import make_server, pages, render
from fsregistry.ui.links import Links
from fsregistry.ui.server import UIServer

SMALL, LARGE = "ten-versions", "many-versions"
SIZE_TARGET = 300 * 1024
RATIO_TARGET = 2.0


def metrics(version: int) -> dict[str, float]:
    """Six metrics named as real training runs name them, unrounded."""
    return {
        "val_roc_auc_ovr_weighted": 0.7 + 0.25 * version / (version + 300),
        "val_average_precision_macro": 0.6 + 0.3 * version / (version + 400),
        "val_log_loss": 0.6 / (1 + version / 90) + 0.02,
        "train_log_loss": 0.5 / (1 + version / 70) + 0.0123456789,
        "learning_rate": 0.1 / (1 + version / 500),
        "epoch": version,
    }


def build(root: Path, versions: int) -> CustomModelRegistry:
    """The two models (reused when ``root`` already holds them with enough versions)."""
    registry = CustomModelRegistry(root)
    for name, count in ((SMALL, 10), (LARGE, versions)):
        have = {int(v["version"]) for v in registry.list_versions(name)} if name in _names(registry) else set()
        if len(have) >= count:
            continue
        started = time.perf_counter()
        for version in range(len(have) + 1, count + 1):
            registry.save_model(
                {"weights": [version]},
                name,
                metrics=metrics(version),
                params={"max_depth": 6, "seed": version},
                tags={"team": "growth", "batch": str(version % 3), "dataset": "2026-q1"},
                description=f"nightly retrain {version}",
            )
        registry.transition_model_stage(f"{name}/{max(1, count - 5)}", "Production")
        registry.transition_model_stage(f"{name}/{count}", "Staging")
        registry.set_alias(name, "champion", max(1, count - 5))
        print(f"built {name}: {count} versions in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return registry


def _names(registry: CustomModelRegistry) -> set[str]:
    return {str(m["name"]) for m in registry.list_models()}


@contextmanager
def serving(registry: CustomModelRegistry) -> Iterator[UIServer]:
    server = make_server(registry, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def get(conn: http.client.HTTPConnection, path: str) -> tuple[float, int]:
    """Seconds for one GET on a kept-alive connection, and the body's size in bytes."""
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    assert response.status == 200, (path, response.status)
    return elapsed, len(body)


def interleaved(rounds: int, sides: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Median seconds of each side, the sides taking turns round by round."""
    times: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(rounds):
        for key, run in sides.items():
            times[key].append(run())
    return {k: statistics.median(v) for k, v in times.items()}


def measure(registry: CustomModelRegistry, rounds: int) -> dict[str, Any]:
    paths = {name: Links().model(name) for name in (SMALL, LARGE)}
    out: dict[str, Any] = {}
    with serving(registry) as server:
        address, port = server.server_address[:2]
        conn = http.client.HTTPConnection(str(address), port, timeout=60)
        sizes = {name: get(conn, path)[1] for name, path in paths.items()}

        def warm(name: str) -> Callable[[], float]:
            return lambda: get(conn, paths[name])[0]

        def cold(name: str) -> Callable[[], float]:
            def run() -> float:
                server.cache.clear()
                return get(conn, paths[name])[0]

            return run

        out["warm"] = interleaved(rounds, {n: warm(n) for n in paths})
        out["cold"] = interleaved(max(3, rounds // 3), {n: cold(n) for n in paths})
        conn.close()
    out["size"] = sizes
    out["drawing"] = interleaved(max(3, rounds // 3), {n: _drawing(registry, n) for n in paths})
    return out


def _drawing(registry: CustomModelRegistry, name: str) -> Callable[[], float]:
    """Building and rendering the page from a listing read beforehand."""
    summary, listing = registry.get_model(name), registry.list_versions(name)

    class Read:
        root = registry.root

        def get_model(self, _: str) -> dict[str, Any]:
            return summary

        def list_versions(self, _: str) -> list[dict[str, Any]]:
            return listing

    reader: Any = Read()

    def run() -> float:
        started = time.perf_counter()
        render.model_page(pages.model_page(reader, name, summary), Links(), root=str(registry.root))
        return time.perf_counter() - started

    return run


def browser_times(registry: CustomModelRegistry, loads: int = 5) -> dict[str, float] | None:
    """Median milliseconds from navigation to the end of the load event in headless
    Chromium (the versions table is drawn by then); ``None`` without Chromium."""
    chromium, driver_path = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.is_file() and driver_path.is_file()):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    with tempfile.TemporaryDirectory() as profile:
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server", f"--user-data-dir={profile}"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=str(driver_path)), options=options)
        script = "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;"
        try:
            with serving(registry) as server:
                samples: dict[str, list[float]] = {SMALL: [], LARGE: []}
                for _ in range(loads):
                    for name in samples:
                        driver.get(server.url + Links().model(name).lstrip("/"))
                        assert driver.find_elements("css selector", "#versions tbody tr"), name
                        samples[name].append(float(driver.execute_script(script)))
        finally:
            driver.quit()
    return {k: statistics.median(v) for k, v in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=2000, help="versions of the large model (default 2000)")
    parser.add_argument("--rounds", type=int, default=30, help="timed GETs of each page (default 30)")
    parser.add_argument("--root", type=Path, help="registry to build in or reuse (default: a temporary one)")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless Chromium timing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        registry = build(args.root or Path(work) / "registry", args.versions)
        result = measure(registry, args.rounds)
        browser = None if args.no_browser else browser_times(registry)
    report(result, browser, args.versions)
    return 0


def report(result: dict[str, Any], browser: dict[str, float] | None, versions: int) -> None:
    size, warm, cold, drawing = result["size"], result["warm"], result["cold"], result["drawing"]
    print(f"| model page | 10 versions | {versions} versions | ratio | target |")
    print("|---|---:|---:|---:|---|")
    print(
        f"| size | {size[SMALL] / 1024:.0f} KB | {size[LARGE] / 1024:.0f} KB | "
        f"{size[LARGE] / size[SMALL]:.1f}x | {versions} versions under {SIZE_TARGET // 1024} KB: "
        f"{'met' if size[LARGE] < SIZE_TARGET else 'MISSED'} |"
    )
    for label, times, target in (
        ("server, warm (reload)", warm, f"within {RATIO_TARGET:.0f}x"),
        ("server, cold (after a change)", cold, ""),
        ("drawing only (no registry read)", drawing, ""),
    ):
        ratio = times[LARGE] / times[SMALL]
        verdict = f"{target}: {'met' if ratio <= RATIO_TARGET else 'MISSED'}" if target else ""
        print(f"| {label} | {times[SMALL] * 1000:.2f} ms | {times[LARGE] * 1000:.2f} ms | {ratio:.1f}x | {verdict} |")
    if browser is not None:
        print(
            f"| browser, navigation to load end | {browser[SMALL]:.0f} ms | {browser[LARGE]:.0f} ms | "
            f"{browser[LARGE] / browser[SMALL]:.1f}x | |"
        )


if __name__ == "__main__":
    raise SystemExit(main())
