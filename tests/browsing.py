"""The browser tests' tools: headless Chromium (Debian's binary, the flags this machine needs) and
``Screens``, the pages a test opens, logged in as a role and failing it on any page error."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.peers import CHROMIUM, missing
from tests.serverproc import ServerProcess
from tests.timing import MS

# Playwright's default wait for a page, in milliseconds.
WAIT = int(10_000 * MS * 1000)
# Printing is the browser's print dialog: counted instead of opened (``window.__prints``).
COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


def chromium() -> Iterator[Any]:
    """A launched browser for a fixture to yield from; a missing Chromium or Playwright fails under
    CI=true."""
    if not os.path.exists(CHROMIUM):
        missing("Chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing("Playwright")
        raise
    # ``expect`` keeps its own wait (5 s by default), apart from the pages': on two busy cores a
    # pushed event can take longer than that to reach a page, so it waits as long as a page does.
    expect.set_options(timeout=WAIT)
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


class Screens:
    """The pages a test opens on one server. Every page of every context made here is watched: an
    uncaught exception or a console error fails the test (``check``, and the ``screens`` fixture
    at teardown). A console error the test provokes on purpose is named with ``allow``."""

    def __init__(self, browser: Any, server: ServerProcess) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self._allowed: list[re.Pattern[str]] = []
        self._watched: list[Any] = []

    def context(
        self,
        *,
        width: int = 1280,
        height: int = 800,
        mobile: bool = False,
        locale: str = "zh-CN",
        timezone: str | None = None,
    ) -> Any:
        """A browser context of its own (its own cookies: one person's browser), closed at the end;
        ``timezone`` sets the browser's clock zone (a laptop set to another zone than the hall)."""
        context = self.browser.new_context(
            base_url=self.server.url,
            viewport={"width": width, "height": height},
            locale=locale,
            is_mobile=mobile,
            has_touch=mobile,
            timezone_id=timezone,
        )
        context.set_default_timeout(WAIT)
        context.add_init_script(COUNT_PRINTS)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def open(
        self,
        path: str,
        *,
        role: str | None = None,
        context: Any = None,
        width: int = 1280,
        height: int = 800,
        mobile: bool = False,
    ) -> Any:
        """A new page at ``path``: in ``context`` if given, else in a new one of that size; with
        ``role``, logged in first through the login form that ``path`` sends a stranger to."""
        context = context if context is not None else self.context(width=width, height=height, mobile=mobile)
        page = context.new_page()
        self._watch(page)
        if role is None:
            page.goto(path)
        else:
            self.log_in(page, path, role)
        return page

    def log_in(self, page: Any, path: str, role: str) -> None:
        """Open ``path`` as a stranger, get the login form, log in as the server's first account
        with ``role``, and land on ``path``."""
        from playwright.sync_api import expect

        username = self.server.roles[role]
        page.goto(path)
        expect(page).to_have_url(f"{self.server.url}/login?next={path}")
        self.fill_login(page, username, self.server.passwords[username])
        expect(page).to_have_url(f"{self.server.url}{path}")
        # The URL changes when the page starts to arrive; its scripts (modules, deferred) have run
        # by its load event. A click before then finds buttons with nothing listening yet.
        page.wait_for_load_state("load")

    @staticmethod
    def fill_login(page: Any, username: str, password: str) -> None:
        """Type into the login form on ``page`` and send it, as a person does."""
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button.primary")

    def allow(self, pattern: str) -> None:
        """A console error matching ``pattern`` is expected (the test provokes it), not a failure.
        It is matched against the message followed by its source in brackets, as ``check`` shows it:
        ``Failed to load resource: the server responded with a status of 409 (Conflict) (http://…)``."""
        self._allowed.append(re.compile(pattern))

    def _watch(self, page: Any) -> None:
        if any(seen is page for seen in self._watched):
            return
        self._watched.append(page)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page: Any, message: Any) -> None:
        source = message.location.get("url") or "?"
        # Every page names its icon (/static/favicon.svg), so a request for /favicon.ico, which
        # Chromium makes only for a page without one, fails the test like any other error.
        shown = f"{message.text} ({source})"
        if message.type == "error" and not any(p.search(shown) for p in self._allowed):
            self.errors.append(f"{page.url}: console error: {shown}")

    def check(self) -> None:
        assert not self.errors, f"errors on the pages: {self.errors}"

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def shoot(page: Any, name: str) -> None:
    """A full-page screenshot the test run keeps (test-artifacts/screenshots/<name>.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sample_server(folder: Path) -> Iterator[ServerProcess]:
    """A real server on the sample halls in ``folder``, every service open day and night; for a
    module's ``server`` fixture."""
    from tests.queueing.test_browser_counter import open_all_week

    proc = ServerProcess(folder)
    proc.init()
    open_all_week(proc.db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
