"""In a real browser: an admin makes a clerk's account; the clerk signs in with the one-time
password, is made to choose their own, opens a counter and calls the first ticket.

Screenshots go to test-artifacts/screenshots/ (admin-staff-created, account-password-forced).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.browsing import Screens, sample_server, shoot
from tests.helpers import csrf_of
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHOSEN = "Morning-tide-4827"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from sample_server(tmp_path_factory.mktemp("accounts"))


def test_an_admin_makes_a_clerk_who_changes_the_first_password_and_calls_a_ticket(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    admin = screens.open("/admin/staff/1", role="admin", width=1366, height=900)
    admin.fill("#new-username", "zhou.min")
    admin.fill("#new-name", "周敏")
    admin.fill("#new-staff-no", "XH1200")
    admin.locator("#new-account").get_by_role("button", name="创建账号").click()
    expect(admin.locator(".one-time")).to_contain_text("zhou.min 的一次性密码")
    first = admin.locator("#one-time-password").inner_text().strip()
    expect(admin.locator('#accounts tr[data-username="zhou.min"]')).to_contain_text("等待首次登录")
    shoot(admin, "admin-staff-created")

    clerk = screens.context(width=1366, height=768)
    console = clerk.new_page()
    console.goto("/counter/1/1")
    screens.fill_login(console, "zhou.min", first)
    expect(console).to_have_url(f"{server.url}/account/password?next=/counter/1/1")
    expect(console.locator(".alert")).to_contain_text("您的密码由管理员设置")
    shoot(console, "account-password-forced")
    console.fill("#old_password", first)
    screens.allow(r"status of 422 .*/account/password")  # the weak password, refused on purpose
    console.fill("#new_password", "1234567890")
    console.fill("#confirm", "1234567890")
    console.get_by_role("button", name="修改密码").click()
    expect(console.locator(".alert[role=alert]")).to_contain_text("太常见")
    console.fill("#old_password", first)
    console.fill("#new_password", CHOSEN)
    console.fill("#confirm", CHOSEN)
    console.get_by_role("button", name="修改密码").click()
    expect(console).to_have_url(f"{server.url}/counter/1/1")
    expect(console.locator("#link-state")).to_have_text("实时")

    console.get_by_role("button", name="开放窗口").click()
    expect(console.locator("#counter-holder")).to_contain_text("周敏")
    with httpx.Client(base_url=server.url, timeout=10) as kiosk:
        token = csrf_of(kiosk.get("/login").text)
        taken = kiosk.post("/api/v1/halls/1/tickets", json={"service": "soc"}, headers={"X-CSRF-Token": token})
        assert taken.status_code == 200, taken.text
    expect(console.locator("#waiting tbody tr[data-ticket]")).to_have_count(1)
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text("A001")
    screens.check()
