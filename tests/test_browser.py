"""The HTML report and the Data Docs page open in headless Chromium with no network: no request leaves
the machine, no console error, every image renders. Skips (with the reason) when Chromium, ChromeDriver
or selenium is missing; `.ci/run` installs Debian's chromium + chromium-driver. With
$EMODATA_SCREENSHOTS set, full-page PNG screenshots are written there (docs/ holds the README's)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from emodata.report import write_report
from expectations import render_docs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
#: Flags that work as root on a closed network (no sandbox; no background connections to Google).
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("no Chromium/ChromeDriver on this machine (apt-get install -y chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    from selenium.webdriver.chrome.service import Service

    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as exc:  # a browser that cannot start here is a skip, with the reason
        pytest.skip(f"Chromium did not start: {str(exc).splitlines()[0]}")
    yield driver
    driver.quit()


def _requests(driver) -> list[str]:
    """URLs of every request the page made (from Chromium's performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _open_and_check(driver, page: Path, shot: str) -> None:
    driver.get_log("performance")      # drop what an earlier page logged
    driver.get_log("browser")
    driver.get(page.as_uri())
    driver.execute_script("return document.readyState")
    urls = _requests(driver)
    assert page.as_uri() in urls                 # the log sees requests (so an empty "outside" means something)
    outside = [u for u in urls if not u.startswith(("file://", "data:", "about:"))]
    assert outside == [], f"{page.name} requested {outside}"
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], f"{page.name} console errors: {errors}"
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src.slice(0, 80));")
    assert broken == [], f"{page.name}: images that did not render: {broken}"
    styled = driver.execute_script("return getComputedStyle(document.body).fontFamily")
    assert "serif" != styled.strip().lower(), "the page's own styles were not applied"
    target = os.environ.get("EMODATA_SCREENSHOTS")
    if target:
        height = driver.execute_script("return Math.min(document.body.scrollHeight, 2600)")
        driver.set_window_size(1400, max(800, height))
        Path(target).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(target) / shot))
        driver.set_window_size(1400, 1000)


def test_report_renders_offline(browser, sample_build, tmp_path):
    report = write_report(sample_build.manifest_path, tmp_path / "report")
    n_images = report.read_text(encoding="utf-8").count("<img")
    assert n_images >= 3
    _open_and_check(browser, report, "report.png")
    assert browser.execute_script("return document.images.length") == n_images


def test_data_docs_render_offline(browser, sample_build, tmp_path):
    index = render_docs(sample_build.root, sample_build.manifest, tmp_path / "docs")
    _open_and_check(browser, index, "data_docs.png")
    rows = browser.execute_script("return document.querySelectorAll('tbody tr').length")
    assert rows >= len(json.loads((sample_build.root / "manifests" / "qc.json").read_text())["outcomes"])
