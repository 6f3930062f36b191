"""Headless Chromium for the browser tests: Debian's binary, the flags this machine needs."""

from __future__ import annotations

import os
import time
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


def wait_until(page: Any, expression: str, arg: Any = None, *, timeout: float = 10.0) -> None:
    """Wait until ``expression`` (a JavaScript function of ``arg``, or an expression) is truthy in
    the page. Playwright's ``wait_for_function`` compiles its predicate inside the page, which the
    pages' Content Security Policy (no ``unsafe-eval``) refuses at times; ``evaluate`` runs through
    the debugging protocol, which the policy does not govern."""
    deadline = time.monotonic() + timeout
    while True:
        if page.evaluate(expression, arg):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)
