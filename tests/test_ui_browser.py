"""End to end in a real headless Chromium: the live server and the static export.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them).  When
they are missing these tests FAIL, on purpose: a skipped browser test would let the UI
break unnoticed.  Selenium is handed the driver's path, so it never tries to download one;
the only network traffic is to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from ui_demo import (
    CHURN_ACCURACY,
    HOSTILE_IMG,
    HOSTILE_METRIC,
    HOSTILE_SCRIPT,
    HOSTILE_TAG,
    LAYOUT_METRICS,
    LAYOUT_PRODUCTION,
    LAYOUT_VERSIONS,
    LONG_METRIC,
    LONG_MODEL,
    MODEL_DESCRIPTION,
    build_demo_registry,
    build_layout_registry,
    layout_metrics,
    running,
)

from fsregistry import CustomModelRegistry
from fsregistry.ui import export_site
from fsregistry.ui.links import Links
from fsregistry.ui.metrics import compact, metric_text, rank_metrics

pytestmark = pytest.mark.browser

WebDriver = webdriver.Chrome

CHROMIUM = Path("/usr/bin/chromium")
#: how long to wait for the page to react: a guard against a hang, never a measure of speed
BROWSER_WAIT_S = 120
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",
    "--window-size=1400,1000",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> CustomModelRegistry:
    return build_demo_registry(tmp_path_factory.mktemp("ui-browser") / "registry")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile in ``tmp_path``; quit (and reaped) after the test."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's chromium and chromium-driver; missing {', '.join(missing)}. "
            "Install them with: apt-get install -y chromium chromium-driver",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(BROWSER_WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


# -- what every page must satisfy ---------------------------------------------------------------


def assert_no_script_ran(driver: WebDriver) -> None:
    """No alert is open, no injected code set the marker, and the browser logged no
    error (a Content Security Policy violation would be one)."""
    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    errors = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
    assert errors == [], errors


def screenshot(driver: WebDriver, path: Path) -> None:
    """A full-page screenshot (the window is stretched to the page's height)."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1400, min(max(height + 200, 600), 6000))  # + the window's own frame
    assert driver.save_screenshot(str(path)), path
    assert path.stat().st_size > 10_000, path
    driver.set_window_size(1400, 1000)


def kv(driver: WebDriver, section: str) -> dict[str, str]:
    """The name/value table under the ``<h2>`` titled ``section``."""
    table = driver.find_element(By.XPATH, f"//h2[normalize-space()='{section}']/following-sibling::div[1]//table")
    return {
        row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
        for row in table.find_elements(By.TAG_NAME, "tr")
    }


def rows(driver: WebDriver, selector: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, selector)


# -- the walk through the site -----------------------------------------------------------------------


def walk_the_site(driver: WebDriver, home: str, shots: Path) -> None:
    """Load each kind of page (following the site's own links), check what it shows,
    and save a screenshot of each."""
    driver.get(home)
    check_models_list(driver)
    screenshot(driver, shots / "models.png")

    driver.find_element(By.LINK_TEXT, "churn").click()
    check_model_page(driver)
    screenshot(driver, shots / "model.png")

    driver.find_element(By.CSS_SELECTOR, 'tr[data-version="3"] a').click()
    check_version_page(driver)
    screenshot(driver, shots / "version.png")

    driver.find_element(By.LINK_TEXT, "churn").click()  # breadcrumb
    driver.find_element(By.PARTIAL_LINK_TEXT, "Stage history").click()
    check_history_page(driver)
    screenshot(driver, shots / "history.png")

    driver.find_element(By.LINK_TEXT, "Models").click()
    assert driver.find_element(By.TAG_NAME, "h1").text == "Models"


def check_models_list(driver: WebDriver) -> None:
    assert driver.title.startswith("Models")
    models = rows(driver, "tr[data-model]")
    assert [r.get_attribute("data-model") for r in models] == ["churn", "price-forecast"]
    churn = models[0]
    holders = {a.get_attribute("data-holds"): a.text for a in churn.find_elements(By.CSS_SELECTOR, "a[data-holds]")}
    assert holders == {"Staging": "Staging v3", "Production": "Production v2"}
    assert "@champion → v2" in churn.text and "@challenger → v3" in churn.text
    assert MODEL_DESCRIPTION in churn.text
    chips = [c.text for c in churn.find_elements(By.CLASS_NAME, "chip")]
    assert f"note={HOSTILE_TAG}" in chips  # the hostile tag, as text
    assert_no_script_ran(driver)

    search = driver.find_element(By.ID, "search")
    search.send_keys("team=pricing")
    assert [r.is_displayed() for r in models] == [False, True]
    assert driver.find_element(By.ID, "search-count").text == "1 of 2 models"
    search.clear()
    search.send_keys("<script>")  # tag values are searchable too, as text
    assert [r.is_displayed() for r in models] == [True, False]
    search.clear()
    search.send_keys(" ")
    assert all(r.is_displayed() for r in models)
    assert_no_script_ran(driver)


def check_model_page(driver: WebDriver) -> None:
    assert driver.find_element(By.TAG_NAME, "h1").text == "churn"
    versions = rows(driver, "tr[data-version]")
    assert [r.get_attribute("data-version") for r in versions] == ["3", "2", "1"]
    production = driver.find_element(By.CSS_SELECTOR, 'tr[data-stage="Production"]')
    assert production.get_attribute("data-version") == "2"
    assert "production" in (production.get_attribute("class") or "")
    assert production.find_element(By.CSS_SELECTOR, ".badge.stage-production").text == "Production"
    assert len(rows(driver, 'tr[data-stage="Production"]')) == 1
    for metric in ("accuracy", HOSTILE_METRIC):
        chart = driver.find_element(By.CSS_SELECTOR, f'svg[data-metric="{metric}"]')
        points = chart.find_elements(By.CSS_SELECTOR, "circle.point")
        assert [p.get_attribute("data-version") for p in points] == ["1", "2", "3"]  # one per version
        marked = chart.find_elements(By.CSS_SELECTOR, "circle.point.production")
        assert [p.get_attribute("data-version") for p in marked] == ["2"]
    accuracy = driver.find_elements(By.CSS_SELECTOR, 'svg[data-metric="accuracy"] circle.point')
    assert [float(p.get_attribute("data-value") or "nan") for p in accuracy] == list(CHURN_ACCURACY.values())
    assert HOSTILE_METRIC in driver.find_element(By.CLASS_NAME, "charts").text
    assert_no_script_ran(driver)


def check_version_page(driver: WebDriver) -> None:
    heading = driver.find_element(By.TAG_NAME, "h1").text.split()
    assert heading == ["churn", "v3", "Staging", "@challenger"]
    assert HOSTILE_IMG in driver.find_element(By.CSS_SELECTOR, "p.lead").text
    tags = kv(driver, "Tags")
    assert tags["note"] == HOSTILE_TAG and tags["xss"] == HOSTILE_SCRIPT
    assert kv(driver, "Metrics")["accuracy"] == str(CHURN_ACCURACY[3])
    identifiers = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "table.identifiers code")]
    assert identifiers[:4] == [
        "models:/churn/3",
        "models:/churn/latest",
        "models:/churn/Staging",
        "models:/churn@challenger",
    ]
    assert identifiers[4].startswith("runs:/")
    columns = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "table.signature tbody tr td:nth-child(2)")]
    assert columns == ["age", "spend"]
    status = driver.find_element(By.CSS_SELECTOR, "table.files [data-status]")
    assert status.get_attribute("data-status") == "verified" and "verified" in status.text
    assert rows(driver, "table.environment tr.mismatch") == []
    button = driver.find_element(By.CSS_SELECTOR, 'button[data-copy="models:/churn@challenger"]')
    # the page shows "Copied" for 1.5 s only: record every text the button takes, so that a
    # slow browser or a busy machine cannot make the check miss that window
    driver.execute_script(
        "const button = arguments[0]; window.__copyTexts = [];"
        "new MutationObserver(() => window.__copyTexts.push(button.textContent))"
        ".observe(button, {childList: true, characterData: true, subtree: true});",
        button,
    )
    button.click()  # the inline script runs under the page's CSP; the clipboard answers asynchronously
    copied = "return window.__copyTexts.includes('Copied')"
    WebDriverWait(driver, BROWSER_WAIT_S).until(lambda _: driver.execute_script(copied))
    assert_no_script_ran(driver)


def check_history_page(driver: WebDriver) -> None:
    assert "stage history" in driver.find_element(By.TAG_NAME, "h1").text
    events = [tuple(td.text for td in r.find_elements(By.TAG_NAME, "td")[1:4]) for r in rows(driver, "table tbody tr")]
    assert ("v1", "Production", "Archived") in events and ("v3", "—", "Staging") in events
    assert_no_script_ran(driver)


# -- the tests ---------------------------------------------------------------------------------------


def test_live_server_in_headless_chromium(demo: CustomModelRegistry, browser: WebDriver, tmp_path: Path) -> None:
    with running(demo) as server:
        assert server.url.startswith("http://127.0.0.1:")
        walk_the_site(browser, server.url, tmp_path)
        browser.get(server.url + "models/churn/versions/99")
        assert "404" in browser.find_element(By.TAG_NAME, "h1").text
        browser.get(server.url + "models/..%2F..%2Fetc/")
        assert "404" in browser.find_element(By.TAG_NAME, "h1").text
    for name in ("models", "model", "version", "history"):
        assert (tmp_path / f"{name}.png").is_file()


def test_static_export_from_file_urls(demo: CustomModelRegistry, browser: WebDriver, tmp_path: Path) -> None:
    site = export_site(demo, tmp_path / "site")
    walk_the_site(browser, (site / "index.html").as_uri(), tmp_path)
    assert browser.current_url.startswith("file://")
    for name in ("models", "model", "version", "history"):
        assert (tmp_path / f"{name}.png").is_file()


def test_the_export_keeps_working_once_moved(demo: CustomModelRegistry, browser: WebDriver, tmp_path: Path) -> None:
    """Relative links: the folder can be moved (or zipped and unpacked) anywhere."""
    moved = tmp_path / "elsewhere" / "copy"
    moved.parent.mkdir()
    export_site(demo, tmp_path / "site").rename(moved)
    browser.get((moved / "models" / "churn" / "versions" / "2.html").as_uri())
    assert "Production" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.LINK_TEXT, "Models").click()
    assert browser.current_url == (moved / "index.html").as_uri()
    assert_no_script_ran(browser)


# -- the layout registry: paging, sorting, filtering, comparing, searching ----------------------------
#
# The same walk runs against the live server and against the static export opened from
# file://, so everything the script does must work without a server.


@pytest.fixture(scope="module")
def layout_registry(tmp_path_factory: pytest.TempPathFactory) -> CustomModelRegistry:
    """Long names, long unbroken text, eight realistic metrics, 130 versions (read-only)."""
    return build_layout_registry(tmp_path_factory.mktemp("ui-layout") / "registry")


EN_DASH, MINUS = "\u2013", "\u2212"


class Site:
    """Where one registry's pages are: the live server (``Links()``) or an export (``Links.exported(0)``)."""

    def __init__(self, base: str, links: Links) -> None:
        self.base, self.links = base, links

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")


def live_site(server_url: str) -> Site:
    return Site(server_url, Links())


def exported_site(folder: Path) -> Site:
    return Site(folder.as_uri() + "/", Links.exported(0))


def wait_for(driver: WebDriver, condition: Callable[[], object], what: str) -> None:
    """Wait until ``condition()`` is true (a hang guard: the checks never depend on speed)."""
    WebDriverWait(driver, BROWSER_WAIT_S, poll_frequency=0.05).until(lambda _: condition(), message=what)


def query(driver: WebDriver) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query)


def version_rows(driver: WebDriver) -> list[int]:
    return [int(r.get_attribute("data-version") or 0) for r in rows(driver, "#versions tbody tr")]


def metric_headers(driver: WebDriver) -> list[str]:
    return [th.get_attribute("title") or "" for th in rows(driver, "#versions thead th.metric")]


def type_into(driver: WebDriver, element_id: str, text: str) -> None:
    box = driver.find_element(By.ID, element_id)
    box.clear()
    if not text:  # clear() fires no input event
        box.send_keys(" ")
        box.send_keys("\b")
    else:
        box.send_keys(text)


def rounded(version: int, metric: str) -> float:
    """A layout metric as the page's data holds it (five significant digits)."""
    return float(compact(layout_metrics(version)[metric]))


def exercise_versions_table(driver: WebDriver, site: Site) -> None:
    """Paging, sorting, filtering, metric columns, and all of it kept in the URL."""
    driver.get(site.url(site.links.model(LONG_MODEL)))
    newest = list(range(LAYOUT_VERSIONS, 0, -1))
    assert version_rows(driver) == newest[:50]
    assert (
        driver.find_element(By.CSS_SELECTOR, "#pager .range").text
        == f"Showing 1{EN_DASH}50 of {LAYOUT_VERSIONS} versions"
    )
    ranked = rank_metrics(dict.fromkeys(LAYOUT_METRICS, LAYOUT_VERSIONS))
    assert metric_headers(driver) == ranked[:6]
    assert set(ranked[:4]) == {m for m in LAYOUT_METRICS if m.startswith("val")}  # not alphabetical: epoch is not first
    assert driver.find_element(By.ID, "metric-note").is_displayed()  # 6 of 8 shown, and it says so
    # charts come before the table
    assert (
        driver.find_element(By.CLASS_NAME, "charts").location["y"]
        < driver.find_element(By.ID, "versions").location["y"]
    )

    driver.find_element(By.CSS_SELECTOR, "#pager .page-next").click()
    assert version_rows(driver) == newest[50:100] and query(driver)["page"] == ["2"]

    driver.find_element(By.CSS_SELECTOR, 'button.sort[data-sort="m:val_log_loss"]').click()  # highest first
    by_loss = sorted(newest, key=lambda v: -rounded(v, "val_log_loss"))
    assert version_rows(driver) == by_loss[:50] and query(driver)["sort"] == ["-m:val_log_loss"]
    assert "page" not in query(driver)  # a new order starts at its first page
    header = driver.find_element(By.CSS_SELECTOR, 'th:has(button[data-sort="m:val_log_loss"])')
    assert header.get_attribute("aria-sort") == "descending"
    driver.find_element(By.CSS_SELECTOR, 'button.sort[data-sort="m:val_log_loss"]').click()  # lowest first
    assert version_rows(driver) == by_loss[::-1][:50] and query(driver)["sort"] == ["m:val_log_loss"]

    type_into(driver, "filter", "stage=production")
    assert version_rows(driver) == [LAYOUT_PRODUCTION]
    assert driver.find_element(By.ID, "filter-count").text == f"1 of {LAYOUT_VERSIONS} versions"
    type_into(driver, "filter", "val_roc_auc_ovr_weighted>0.85")
    passing = {v for v in newest if rounded(v, "val_roc_auc_ovr_weighted") > 0.85}
    shown_pages: set[int] = set()
    assert 50 < len(passing) < LAYOUT_VERSIONS  # spans pages: walk them all
    while True:
        shown_pages.update(version_rows(driver))
        following = driver.find_element(By.CSS_SELECTOR, "#pager .page-next")
        if not following.is_enabled():
            break
        following.click()
    assert shown_pages == passing
    type_into(driver, "filter", "@champion_of_the")  # aliases match too
    assert version_rows(driver) == [LAYOUT_PRODUCTION]
    type_into(driver, "filter", "no-such-thing")
    assert version_rows(driver) == [] and driver.find_element(By.ID, "no-match").is_displayed()

    type_into(driver, "filter", "batch=1 val_log_loss<0.1")
    state = query(driver)
    assert state["q"] == ["batch=1 val_log_loss<0.1"] and state["sort"] == ["m:val_log_loss"]
    expected = sorted(
        (v for v in newest if v % 3 == 1 and rounded(v, "val_log_loss") < 0.1), key=lambda v: rounded(v, "val_log_loss")
    )
    assert version_rows(driver) == expected[:50]
    driver.get(driver.current_url)  # a linked view opens as it was left
    assert driver.find_element(By.ID, "filter").get_attribute("value") == "batch=1 val_log_loss<0.1"
    assert version_rows(driver) == expected[:50]

    driver.find_element(By.ID, "metric-chooser-summary").click()
    for metric in (m for m in ranked[6:]):
        driver.find_element(By.CSS_SELECTOR, f'#metric-chooser input[value="{metric}"]').click()
    assert metric_headers(driver) == ranked and set(query(driver)["m"]) == set(ranked)
    assert not driver.find_element(By.ID, "metric-note").is_displayed()
    assert driver.find_element(By.ID, "metric-chooser-summary").text == "Metric columns: 8 of 8 shown"
    driver.find_element(By.CSS_SELECTOR, f'#metric-chooser input[value="{LONG_METRIC}"]').click()
    assert LONG_METRIC not in metric_headers(driver)
    assert_no_script_ran(driver)


def exercise_compare(driver: WebDriver, site: Site) -> None:
    """Select versions in the table, compare them, then change the comparison."""
    driver.get(site.url(site.links.model(LONG_MODEL)))
    driver.find_element(By.CSS_SELECTOR, f'tr[data-version="{LAYOUT_VERSIONS}"] input.pick').click()
    type_into(driver, "filter", "stage=production")
    driver.find_element(By.CSS_SELECTOR, f'tr[data-version="{LAYOUT_PRODUCTION}"] input.pick').click()
    button = driver.find_element(By.ID, "compare-selected")
    assert button.text == "Compare selected (2)" and button.is_enabled()
    button.click()
    wait_for(driver, lambda: "compare" in driver.current_url, "the compare page")
    assert query(driver)["v"] == [str(LAYOUT_VERSIONS), str(LAYOUT_PRODUCTION)]
    columns = [th.get_attribute("data-version") for th in rows(driver, "#compare-table thead th[data-version]")]
    assert columns == [str(LAYOUT_VERSIONS), str(LAYOUT_PRODUCTION)]

    metric = "val_roc_auc_ovr_weighted"
    row = driver.find_element(By.CSS_SELECTOR, f'tbody[data-section="metrics"] tr[data-key="{metric}"]')
    assert "diff" in (row.get_attribute("class") or "")
    delta = layout_metrics(LAYOUT_PRODUCTION)[metric] - layout_metrics(LAYOUT_VERSIONS)[metric]
    assert row.find_element(By.CSS_SELECTOR, ".delta").text == MINUS + metric_text(abs(delta))  # signed, against v130
    epoch = driver.find_element(By.CSS_SELECTOR, 'tbody[data-section="metrics"] tr[data-key="epoch"] .delta')
    assert epoch.text == f"{MINUS}{LAYOUT_VERSIONS - LAYOUT_PRODUCTION}"
    same = driver.find_element(By.CSS_SELECTOR, 'tbody[data-section="params"] tr[data-key="max_depth"]')
    assert "same" in (same.get_attribute("class") or "") and same.is_displayed()
    files = driver.find_element(By.CSS_SELECTOR, 'tbody[data-section="files"] tr[data-key="model.bin"]')
    assert "diff" in (files.get_attribute("class") or "")  # different weights, different SHA-256

    driver.find_element(By.ID, "only-diff").click()
    assert not same.is_displayed() and row.is_displayed() and query(driver)["diff"] == ["1"]
    Select(driver.find_element(By.ID, "add-version")).select_by_value("1")
    wait_for(driver, lambda: query(driver).get("v") == [str(LAYOUT_VERSIONS), str(LAYOUT_PRODUCTION), "1"], "v1 added")
    assert driver.find_element(By.ID, "only-diff").is_selected()  # kept
    driver.find_element(By.CSS_SELECTOR, f'th[data-version="{LAYOUT_VERSIONS}"] a.remove').click()
    wait_for(driver, lambda: query(driver).get("v") == [str(LAYOUT_PRODUCTION), "1"], "v130 removed")
    driver.find_element(By.CSS_SELECTOR, 'th[data-version="1"] a.baseline').click()
    wait_for(driver, lambda: query(driver).get("v") == ["1", str(LAYOUT_PRODUCTION)], "v1 the baseline")
    assert driver.find_element(By.CSS_SELECTOR, 'tr[data-key="epoch"] .delta').text == f"+{LAYOUT_PRODUCTION - 1}"

    driver.get(site.url(site.links.compare(LONG_MODEL, [LAYOUT_PRODUCTION, 999])))
    assert "v999" in driver.find_element(By.ID, "compare-missing").text
    assert driver.find_element(By.ID, "compare-hint").is_displayed()
    driver.get(site.url(site.links.compare(LONG_MODEL, range(1, 11))))
    assert len(rows(driver, "#compare-table thead th[data-version]")) == 8  # the most that stay readable
    assert "2 more were left out" in driver.find_element(By.ID, "compare-over").text

    driver.get(site.url(site.links.version(LONG_MODEL, LAYOUT_VERSIONS)))
    driver.find_element(By.CSS_SELECTOR, "a.compare-production").click()
    wait_for(driver, lambda: "compare" in driver.current_url, "compare with Production")
    columns = [th.get_attribute("data-version") for th in rows(driver, "#compare-table thead th[data-version]")]
    assert columns == [str(LAYOUT_PRODUCTION), str(LAYOUT_VERSIONS)]
    assert_no_script_ran(driver)


def exercise_search(driver: WebDriver, site: Site, registry: CustomModelRegistry) -> None:
    """The models list's search (metric conditions, sorting, ?q=) and the search across versions."""
    driver.get(site.url(site.links.home()))
    models = rows(driver, "tr[data-model]")

    def shown() -> list[str]:
        return [r.get_attribute("data-model") or "" for r in models if r.is_displayed()]

    type_into(driver, "search", "val_roc_auc_ovr_weighted>0.9")
    assert shown() == [LONG_MODEL] and query(driver)["q"] == ["val_roc_auc_ovr_weighted>0.9"]
    type_into(driver, "search", "accuracy>=0.86")
    assert shown() == ["churn"]
    type_into(driver, "search", "accuracy>0.86")
    assert shown() == []
    type_into(driver, "search", "flavor=sklearn")
    assert shown() == ["churn", "price-forecast"]
    type_into(driver, "search", "weekly retrained")  # the model's description
    assert shown() == [LONG_MODEL]
    type_into(driver, "search", "")
    driver.find_element(By.CSS_SELECTOR, 'button.sort[data-sort="updated"]').click()  # newest change first
    by_update = sorted(registry.list_models(), key=lambda m: str(m["updated_at"]), reverse=True)
    assert [r.get_attribute("data-model") for r in rows(driver, "tr[data-model]")] == [m["name"] for m in by_update]
    assert query(driver)["sort"] == ["-updated"]

    type_into(driver, "search", "stage=Production team=growth")
    driver.find_element(By.ID, "search-versions").click()
    wait_for(driver, lambda: "search" in urlsplit(driver.current_url).path, "the search page")
    assert driver.find_element(By.ID, "search").get_attribute("value") == "stage=Production team=growth"

    def found() -> list[tuple[str, int]]:
        return [
            (r.get_attribute("data-model") or "", int(r.get_attribute("data-version") or 0))
            for r in rows(driver, "#results tbody tr")
        ]

    assert found() == [
        ("churn", 2),
        (LONG_MODEL, LAYOUT_PRODUCTION),
    ]  # "team=growth" is part of "team=growth-analytics"
    type_into(driver, "search", "onerror")  # a version's description (the hostile one, as text)
    assert found() == [("churn", 3)]
    type_into(driver, "search", "val_log_loss<0.1")
    wanted = {(LONG_MODEL, v) for v in range(1, LAYOUT_VERSIONS + 1) if rounded(v, "val_log_loss") < 0.1}
    total = driver.find_element(By.ID, "search-count").text
    assert total == f"{len(wanted)} of {LAYOUT_VERSIONS + 5} versions"
    chips = rows(driver, "#results tbody tr:first-child .metric-chip code")
    assert chips[0].text == "val_log_loss"  # the metric asked about is shown first
    driver.get(driver.current_url)
    assert driver.find_element(By.ID, "search").get_attribute("value") == "val_log_loss<0.1"
    assert driver.find_element(By.ID, "search-count").text == total
    assert_no_script_ran(driver)


def exercise_dense_chart(driver: WebDriver, site: Site) -> None:
    """Beyond 60 versions a chart has no markers; the pointer reads a version and a click opens it."""
    driver.get(site.url(site.links.model(LONG_MODEL)))
    chart = driver.find_element(By.CSS_SELECTOR, 'svg[data-metric="val_roc_auc_ovr_weighted"]')
    assert chart.get_attribute("data-hover") == "1"
    marked = chart.find_elements(By.CSS_SELECTOR, "circle.point.production")
    assert [c.get_attribute("data-version") for c in marked] == [str(LAYOUT_PRODUCTION)]
    assert len(chart.find_elements(By.CSS_SELECTOR, "circle.point:not(.cursor)")) == 1
    width = chart.size["width"]
    ActionChains(driver).move_to_element_with_offset(chart, int(width * 0.45), 0).perform()
    wait_for(driver, lambda: chart.get_attribute("data-current"), "the version under the pointer")
    current = int(chart.get_attribute("data-current") or 0)
    assert 1 < current < LAYOUT_VERSIONS
    assert chart.find_element(By.CSS_SELECTOR, "text.hover-label").text.startswith(f"v{current}: ")
    ActionChains(driver).click().perform()
    wait_for(driver, lambda: "versions" in driver.current_url, "a version page")
    assert driver.find_element(By.TAG_NAME, "h1").text.split()[1] == f"v{current}"
    assert_no_script_ran(driver)


def test_versions_table_pages_sorts_filters_and_keeps_its_state_in_the_url(
    layout_registry: CustomModelRegistry, browser: WebDriver
) -> None:
    with running(layout_registry) as server:
        exercise_versions_table(browser, live_site(server.url))


def test_compare_versions_side_by_side(layout_registry: CustomModelRegistry, browser: WebDriver) -> None:
    with running(layout_registry) as server:
        exercise_compare(browser, live_site(server.url))


def test_search_models_and_versions_with_the_query_in_the_url(
    layout_registry: CustomModelRegistry, browser: WebDriver
) -> None:
    with running(layout_registry) as server:
        exercise_search(browser, live_site(server.url), layout_registry)


def test_a_dense_chart_opens_the_version_under_the_pointer(
    layout_registry: CustomModelRegistry, browser: WebDriver
) -> None:
    with running(layout_registry) as server:
        exercise_dense_chart(browser, live_site(server.url))


def test_all_of_it_works_from_the_static_export(
    layout_registry: CustomModelRegistry, browser: WebDriver, tmp_path: Path
) -> None:
    """No server: the export opened from file:// pages, sorts, filters, compares, searches."""
    site = exported_site(export_site(layout_registry, tmp_path / "site"))
    exercise_versions_table(browser, site)
    exercise_compare(browser, site)
    exercise_search(browser, site, layout_registry)
    exercise_dense_chart(browser, site)
    assert browser.current_url.startswith("file://")


# -- layout: measured, at 1400 and 800 pixels ---------------------------------------------------------

#: every way a page can push a column or a value out of sight, measured from element boxes
LAYOUT_PROBLEMS = """
const problems = [];
const view = document.documentElement.clientWidth;
const name = (el) => (el.textContent || el.className || el.tagName).trim().slice(0, 60);
const say = (what, el) => problems.push(what + ": " + name(el));
if (document.documentElement.scrollWidth > view + 1) {
  problems.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " > " + view);
}
const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
document.querySelectorAll("main .scroll").forEach((card) => {
  if (!visible(card)) { return; }
  const box = card.getBoundingClientRect();
  if (box.right > view + 1) { say("a card leaves the window", card); }
  if (card.scrollWidth > card.clientWidth + 1) {
    say("a table is wider than its card", card.querySelector("table") || card);
  }
  card.querySelectorAll("th, td").forEach((cell) => {
    if (!visible(cell)) { return; }
    const r = cell.getBoundingClientRect();
    if (r.right > box.right + 1 || r.left < box.left - 1) { say("a column is pushed out of its card", cell); }
  });
});
document.querySelectorAll("main td *, main th *").forEach((el) => {
  if (!visible(el) || el.closest(".sr")) { return; }
  const cell = el.closest("td, th").getBoundingClientRect(), r = el.getBoundingClientRect();
  if (r.right > cell.right + 1 || r.left < cell.left - 1) { say("a value is pushed out of its cell", el); }
});
document.querySelectorAll("main *").forEach((el) => {
  if (!visible(el) || el.closest(".clamp, .sr, th.metric .label")) { return; }  // deliberate, with a title
  const style = getComputedStyle(el);
  const clips = ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
  if (clips && el.scrollWidth > el.clientWidth + 1) { say("a value is clipped", el); }
});
document.querySelectorAll("main h1, main h2, main p, main figure, main .snippet, main .facts > span, main .toolbar > *")
  .forEach((el) => {
    if (visible(el) && el.getBoundingClientRect().right > view + 1) { say("leaves the window", el); }
  });
document.querySelectorAll("main time").forEach((el) => {
  const line = parseFloat(getComputedStyle(el).lineHeight) || 21;
  if (visible(el) && el.getBoundingClientRect().height > 2 * line + 2) { say("a date takes more than two lines", el); }
});
document.querySelectorAll("main td.metric").forEach((cell) => {
  if (visible(cell) && cell.scrollWidth > cell.clientWidth + 1) { say("a metric value does not fit", cell); }
});
return problems;
"""


def set_viewport(driver: WebDriver, width: int) -> None:
    """Make the page's viewport (not the window) ``width`` pixels wide."""
    driver.set_window_size(width, 1000)
    inner = int(driver.execute_script("return window.innerWidth"))
    if inner != width:
        driver.set_window_size(2 * width - inner, 1000)
    assert int(driver.execute_script("return window.innerWidth")) == width


@pytest.mark.parametrize("width", [1400, 800])
def test_no_column_or_value_is_pushed_out_of_its_card(
    layout_registry: CustomModelRegistry, browser: WebDriver, width: int, tmp_path: Path
) -> None:
    """Long model names, a 400-character unbroken description, a 96-character metric name,
    long tags and parameters: measured on every kind of page, at this width."""
    links = Links()
    every_metric = "&".join(f"m={m}" for m in LAYOUT_METRICS)
    pages = {
        "models": links.home(),
        "model": links.model(LONG_MODEL),
        "model, every metric column": links.model(LONG_MODEL) + "?" + every_metric,
        "version": links.version(LONG_MODEL, LAYOUT_VERSIONS),
        "version, hostile values": links.version("churn", 3),
        "compare": links.compare(LONG_MODEL, [LAYOUT_PRODUCTION, LAYOUT_VERSIONS, 1, 2]),
        "search": links.search() + "?q=stage%3DProduction",
        "history": links.history(LONG_MODEL),
    }
    with running(layout_registry) as server:
        browser.get(server.url)
        set_viewport(browser, width)
        for kind, path in pages.items():
            browser.get(server.url + path.lstrip("/"))
            if kind == "model, every metric column":
                assert metric_headers(browser) == rank_metrics(dict.fromkeys(LAYOUT_METRICS, 1))
            problems = browser.execute_script(LAYOUT_PROBLEMS)
            assert problems == [], (kind, width, problems)
            if kind.startswith("model,") or kind == "model":
                assert len(metric_headers(browser)) >= 6  # and every metric column on screen, at 800 too
            assert_no_script_ran(browser)
            screenshot_at(browser, tmp_path / f"{kind.replace(', ', '-').replace(' ', '-')}-{width}.png", width)


def screenshot_at(driver: WebDriver, path: Path, width: int) -> None:
    """A full-page screenshot at ``width`` (the window is stretched to the page's height)."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(driver.get_window_size()["width"], min(max(height, 600), 6000))
    assert driver.save_screenshot(str(path)), path
    assert path.stat().st_size > 10_000, path
    set_viewport(driver, width)
