"""The general page in headless Chromium: sort by a column, filter, screenshot.

Serves a fresh render of synthetic records from a local static server (127.0.0.1, random
port) and drives Debian's ``chromium`` with ``chromedriver`` through Selenium. Skips, with the
reason, only where Chromium, its driver or the selenium package is missing."""
from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_leaderboards import write_results

from erasus_bench.leaderboards.render import render

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """Base URL of a server over tmp_path holding results/ and leaderboards/."""
    render(write_results(tmp_path), tmp_path / "leaderboards")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser(tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    if not Path(CHROMEDRIVER).exists():
        pytest.skip("chromedriver is not installed (Debian: apt-get install chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="the selenium package is not installed "
                                           "(pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _column(driver, header: str) -> tuple[int, list[tuple[str, float | None]]]:
    """(index, [(strategy, sort key)]) of the visible method rows of the first table."""
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.CSS_SELECTOR, "table.board")
    heads = [th.text.strip() for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    idx = next(i for i, h in enumerate(heads) if h.startswith(header))
    out = []
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody.rows tr"):
        if not tr.is_displayed():
            continue
        tds = tr.find_elements(By.TAG_NAME, "td")
        key = tds[idx].get_attribute("data-k")
        out.append((tr.get_attribute("data-strategy"), float(key) if key else None))
    return idx, out


def test_sort_filter_and_screenshot(browser, site: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{site}/leaderboards/general.html")
    assert "general leaderboard" in browser.title
    refs = [tr.get_attribute("data-strategy")
            for tr in browser.find_elements(By.CSS_SELECTOR, "tbody.ref tr")]
    assert refs == ["original", "retrain"]

    idx, rows = _column(browser, "Test acc.")
    th = browser.find_elements(By.CSS_SELECTOR, "table.board thead th")[idx]
    th.click()  # first click: ascending sort key = best first (higher test acc. first)
    _, asc = _column(browser, "Test acc.")
    keys = [k for _, k in asc if k is not None]
    assert keys == sorted(keys) and len(keys) >= 3
    assert [s for s, k in asc if k is None] == [s for s, _ in asc][len(keys):]  # blanks last
    assert th.get_attribute("aria-sort") == "ascending"
    th.click()
    _, desc = _column(browser, "Test acc.")
    keys = [k for _, k in desc if k is not None]
    assert keys == sorted(keys, reverse=True)
    assert [s for s, _ in desc] != [s for s, _ in asc]
    assert [tr.get_attribute("data-strategy")  # reference rows stay pinned above
            for tr in browser.find_elements(By.CSS_SELECTOR, "tbody.ref tr")] == refs

    Select(browser.find_element(By.NAME, "strategy")).select_by_visible_text("finetune")
    trs = browser.find_elements(By.CSS_SELECTOR, "tbody.rows tr")
    shown = [tr.get_attribute("data-strategy") for tr in trs if tr.is_displayed()]
    hidden = [tr.get_attribute("data-strategy") for tr in trs if not tr.is_displayed()]
    assert shown == ["finetune"] and sorted(hidden) == ["gradient_ascent", "salun", "scrub"]
    assert all(tr.is_displayed() for tr in browser.find_elements(By.CSS_SELECTOR, "tbody.ref tr"))

    assert browser.find_element(By.CSS_SELECTOR, "#tradeoff svg").is_displayed()
    shot = tmp_path / "general.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
