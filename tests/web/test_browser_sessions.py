"""In a real browser: logging out in one tab ends the live pages open in the others."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browsing import Screens
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("sessions"))
    proc.init()
    proc.add_staff("sup", "supervisor", name="陈志强")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_wallboard_left_open_goes_to_the_login_when_its_session_is_logged_out_elsewhere(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    context = screens.context(width=1920, height=1080)
    board = screens.open("/wallboard/1", role="supervisor", context=context)
    expect(board.locator("#counters li")).to_have_count(12)
    # The board's own calls, made in the moment before it reloads, are refused: that is the point.
    screens.allow(r"status of 401 \(Unauthorized\)")
    other = screens.open("/", context=context)
    other.click(".topbar form button")
    expect(other.locator(".topbar")).to_contain_text("工作人员登录")
    # The board's socket is closed by the server (4401); the page reloads and is sent to log in.
    expect(board).to_have_url(f"{server.url}/login?next=/wallboard/1")
    screens.check()
