"""Headless Chromium for the browser tests: Debian's binary, the flags this machine needs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from tests.peers import CHROMIUM, missing

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def chromium() -> Iterator[Any]:
    """A launched browser for a fixture to yield from; a missing Chromium or Playwright fails under
    CI=true."""
    if not os.path.exists(CHROMIUM):
        missing("Chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright")
        raise
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
