"""In a real browser: an admin adds a service and a counter to a running hall (the kiosk shows the
service without a reload), makes a clerk's account; the clerk signs in with the one-time password,
is made to choose their own, opens the new counter and calls the first ticket of the new service.

Screenshots go to test-artifacts/screenshots/ (admin-service-form, admin-service-problems,
admin-counters, admin-halls, kiosk-new-service).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browsing import Screens, sample_server, shoot
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHOSEN = "Harbour-lamp-5183"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from sample_server(tmp_path_factory.mktemp("setup"))


def test_an_admin_sets_up_a_service_and_a_counter_that_a_new_clerk_opens_and_calls(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    kiosk = screens.open("/kiosk/1?print=off", width=1080, height=1920)
    expect(kiosk.locator("#services button.service")).to_have_count(6)

    admin = screens.open("/admin/services/1", role="admin", width=1366, height=900)
    admin.locator("#add-service").click()
    admin.fill("#service-code", "estate")
    admin.fill("#service-name-zh", "不动产登记")
    admin.fill("#service-name-en", "Real estate registration")
    admin.fill("#service-prefix", "A")  # soc's: refused, with the reason beside the form
    for day in DAYS:
        admin.locator(f'input[name="open_{day}"]').check()
        admin.fill(f'input[name="opens_{day}"]', "00:00")
        admin.fill(f'input[name="closes_{day}"]', "23:59")
    admin.locator('input[name="open_on_holidays"]').check()
    shoot(admin, "admin-service-form")
    screens.allow(r"status of 422 .*/admin/services/1/new")
    admin.get_by_role("button", name="保存").click()
    expect(admin.locator("#problems")).to_contain_text("未作任何更改")
    expect(admin.locator("#problems")).to_contain_text("'A'")
    expect(admin.locator("#service-prefix")).to_have_attribute("aria-invalid", "true")
    shoot(admin, "admin-service-problems")
    admin.fill("#service-prefix", "R")
    admin.get_by_role("button", name="保存").click()
    expect(admin).to_have_url(f"{server.url}/admin/services/1?saved=1")
    expect(admin.locator('#services tr[data-code="estate"]')).to_contain_text("不动产登记")

    # The kiosk that was open all along offers it now: no reload.
    estate = kiosk.locator('#services button.service[data-code="estate"]')
    expect(estate).to_contain_text("不动产登记")
    shoot(kiosk, "kiosk-new-service")

    admin.goto("/admin/counters/1")
    admin.locator("#add-counter").click()
    admin.fill("#counter-number", "13")
    admin.fill("#counter-name", "13号窗口 不动产")
    admin.locator('input[name="serve_estate"]').check()
    admin.get_by_role("button", name="保存").click()
    expect(admin).to_have_url(f"{server.url}/admin/counters/1?saved=1")
    expect(admin.locator('#counters tr[data-number="13"]')).to_contain_text("不动产登记 (1.0)")
    shoot(admin, "admin-counters")

    admin.goto("/admin/staff/1")
    admin.fill("#new-username", "qian.li")
    admin.fill("#new-name", "钱丽")
    admin.locator("#new-account").get_by_role("button", name="创建账号").click()
    first = admin.locator("#one-time-password").inner_text().strip()
    admin.goto("/admin/halls/1")
    expect(admin.locator('#halls tr[data-code="xh-hp"]')).to_contain_text("街道")
    shoot(admin, "admin-halls")

    clerk = screens.context(width=1366, height=768)
    console = clerk.new_page()
    console.goto("/counter/1/13")
    screens.fill_login(console, "qian.li", first)
    expect(console).to_have_url(f"{server.url}/account/password?next=/counter/1/13")
    console.fill("#old_password", first)
    console.fill("#new_password", CHOSEN)
    console.fill("#confirm", CHOSEN)
    console.get_by_role("button", name="修改密码").click()
    expect(console).to_have_url(f"{server.url}/counter/1/13")
    # The console is ready when its live link is (its buttons act through it).
    expect(console.locator("#link-state")).to_have_text("实时")
    console.get_by_role("button", name="开放窗口").click()
    expect(console.locator("#counter-holder")).to_contain_text("钱丽")

    estate.click()
    expect(kiosk.locator("#slip-number")).to_have_text("R001")
    expect(console.locator("#waiting tbody tr[data-ticket]")).to_have_count(1)
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text("R001")
    screens.check()
