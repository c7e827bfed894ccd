"""A real headless Chromium for the web UI tests: Debian's ``chromium`` driven by Selenium
through Debian's ``chromium-driver`` (no browser is downloaded), with its console and network
logs kept so that tests can check for console errors and requests that leave the machine."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MAXIMUS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MAXIMUS_CHROMEDRIVER", "/usr/bin/chromedriver")
AXE = ROOT / "tests" / "assets" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("MAXIMUS_UI_SHOTS", ROOT / ".run" / "ui-screenshots"))
"""Where each page's screenshot is saved (a test artefact)."""


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless Chromium WebDriver; quits at the end of the block."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def color_scheme(driver: Any, scheme: str) -> None:
    """Make the page see the system setting ``prefers-color-scheme: scheme`` (light or dark)."""
    feature = {"name": "prefers-color-scheme", "value": scheme}
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [feature]})


def console_errors(driver: Any) -> list[str]:
    """Console messages at level SEVERE since the last call."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def requested_urls(driver: Any) -> list[str]:
    """URLs the page asked for since the last call (from the DevTools network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign(urls: list[str], base: str) -> list[str]:
    """The URLs that go anywhere but ``base``'s host and port (``data:`` URLs stay local)."""
    here = urlsplit(base).netloc
    return [u for u in urls if not u.startswith("data:") and urlsplit(u).netloc != here]


def axe_violations(driver: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations of the given impacts on the current page (WCAG 2 A/AA rules)."""
    driver.execute_script(AXE.read_text())
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
    )
    return [v for v in result if v["impact"] in impacts]


def screenshot(driver: Any, name: str) -> Path:
    """Save the page as ``SHOTS/<name>.png`` and return the path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
