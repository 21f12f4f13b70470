"""End to end in a real headless Chromium: the live server and the static export.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them).  When
they are missing these tests FAIL, on purpose: a skipped browser test would let the UI
break unnoticed.  Selenium is handed the driver's path, so it never tries to download one;
the only network traffic is to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from ui_demo import (
    CHURN_ACCURACY,
    HOSTILE_IMG,
    HOSTILE_METRIC,
    HOSTILE_SCRIPT,
    HOSTILE_TAG,
    MODEL_DESCRIPTION,
    build_demo_registry,
    running,
)

from fsregistry import CustomModelRegistry
from fsregistry.ui import export_site

pytestmark = pytest.mark.browser

WebDriver = webdriver.Chrome

CHROMIUM = Path("/usr/bin/chromium")
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
    driver.set_page_load_timeout(30)
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
    button.click()  # the inline script runs under the page's CSP; the clipboard answers asynchronously
    WebDriverWait(driver, 10, poll_frequency=0.02).until(lambda _: button.text == "Copied")
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
