"""Headless Chromium for tests that must see a page the way a reader's browser does.

Why Debian's ``chromium`` + ``chromium-driver`` driven by Selenium: the two packages are built from
the same source, so the driver always matches the browser and nothing is downloaded at test time
(``make browser`` installs them with apt); Selenium reads the browser's console log through
chromedriver, which is how a test proves that a page raised no errors, CSP violations included.
Selenium's own driver manager is never consulted: both binaries are passed explicitly.
"""

from __future__ import annotations

import os
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

CHROMIUM = Path(os.environ.get("EXOCLAIMS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("EXOCLAIMS_CHROMEDRIVER", "/usr/bin/chromedriver"))


def missing_binaries() -> list[str]:
    """The browser binaries this machine lacks (empty when a headless test can run)."""
    return [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not (p.is_file() and os.access(p, os.X_OK))]


def unavailable_reason() -> str | None:
    """Why a headless browser test cannot run here, or None. Tests skip with it, or fail where
    ``EXOCLAIMS_REQUIRE_BROWSER=1`` says the browser must be there (CI)."""
    missing = missing_binaries()
    if not missing:
        return None
    return (f"headless browser test needs {' and '.join(missing)} (`make browser` installs Debian's chromium and "
            f"chromium-driver; EXOCLAIMS_CHROMIUM / EXOCLAIMS_CHROMEDRIVER point elsewhere)")


def browser_required() -> bool:
    return os.environ.get("EXOCLAIMS_REQUIRE_BROWSER", "") not in ("", "0")


@contextmanager
def headless_chromium(width: int = 1280, height: int = 1000) -> Iterator:
    """A Selenium WebDriver on headless Chromium that records the browser console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-extensions", "--no-first-run", "--hide-scrollbars", "--disable-background-networking",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list[dict]:
    """Console entries at level SEVERE since the last call (script errors, CSP violations, failed loads)."""
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


@dataclass(frozen=True)
class Screenshot:
    path: Path
    width: int
    height: int


def full_page_screenshot(driver, path: Path) -> Screenshot:
    """Resize the window to the whole document, save a PNG and return its pixel size (from its header)."""
    driver.set_window_size(1280, 600)  # measure the document, not a window left tall by an earlier page
    width = driver.execute_script("return document.documentElement.scrollWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(max(width, 800), min(max(height, 600), 16000))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"chromium could not write {path}")
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        raise RuntimeError(f"{path} is not a PNG")
    png_width, png_height = struct.unpack(">II", header[16:24])
    return Screenshot(path, png_width, png_height)

