"""受理 at a community counter in a real browser, against a real server, from the applicant to the
resident following the case at home.

A community clerk opens the counter console and, in a second window, the citizen screen. They serve
a ticket, fill in the applicant, choose an item the community may accept, tick its materials and
scan one of them; the resident checks it all on the citizen screen, ID number masked. 受理 gives the
case its number, which the citizen screen shows too, and opens the printable receipt with its QR
code. Then a resident, in a browser of their own and not logged in, opens the tracking page the QR
code leads to, enters the last four digits of their phone and sees the case's stage.

Screenshots go to test-artifacts/screenshots/ (intake-console, intake-citizen, receipt, track-found).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browsing import Screens
from tests.queueing.test_browser_counter import open_all_week, shoot
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"
PDF = b"%PDF-1.4\n% household register, scanned at the counter\n%%EOF\n"
ITEM = "八十周岁以上老年人高龄津贴申领"
REQUIRED = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]
# A ticket taken by staff in a resident's name, from the staff member's page (its session and token).
TAKE_TICKET = """async ({hall, name, id_number}) => {
  const answer = await fetch(`/api/v1/halls/${hall}/tickets`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
    },
    body: JSON.stringify({service: "civil", applicant: {name, id_number}}),
  });
  return answer.status;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("intake"))
    proc.init()
    proc.add_staff("lyclerk", "clerk", "xh-hp-ly", "赵晓梅", staff_no="LY0203")
    open_all_week(proc.db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _community(server: ServerProcess) -> int:
    halls = httpx.get(f"{server.url}/api/v1/halls", timeout=10).json()
    return int(next(h["id"] for h in halls if h["code"] == "xh-hp-ly"))


def _qr_drawn(page: Any) -> bool:
    # Awaited in the page: wait_for_function's string predicates are refused by the pages' CSP.
    width = page.locator("#receipt-qr").evaluate("img => img.decode().then(() => img.naturalWidth)")
    return int(width) > 0


def _pages_in(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_a_case_accepted_at_the_counter_is_mirrored_printed_and_found_by_the_resident(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    hall = _community(server)
    console_path = f"/counter/{hall}/1"
    context = screens.context(width=1280, height=900)
    resident = screens.context(width=800, height=900)
    console = screens.open(console_path, role="clerk", context=context)
    citizen = screens.open(f"{console_path}/citizen", context=context)
    panel = citizen.locator("#intake-panel")
    expect(panel).to_be_hidden()

    # The counter opens and serves a resident whose ticket the guide at the door took in her
    # name: the console shows it masked, and the clerk now serving it gets it in full for the form.
    console.get_by_role("button", name="开放窗口").click()
    expect(console.locator("#counter-status")).to_have_text("开放")
    status = console.evaluate(TAKE_TICKET, {"hall": hall, "name": "王秀英", "id_number": ID_NUMBER})
    assert status == 200
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text("D001")
    console.keyboard.press("s")
    expect(citizen.locator("#serving-line")).to_have_text("正在为 D001 号办理")
    expect(console.locator("#intake-ticket")).to_have_text(
        "取号登记：王** 110***********002X。请读取身份证或录入信息。"
    )
    expect(console.locator("#intake-name")).to_have_value("王秀英")
    expect(console.locator("#intake-id")).to_have_value(ID_NUMBER)

    # The applicant; the ID number is checked on the server and mirrored masked.
    console.fill("#intake-phone", PHONE)
    expect(console.locator("#intake-id-state")).to_have_text("✓ 校验通过")
    expect(panel).to_contain_text("110***********002X")
    expect(panel).to_contain_text("✓ 校验通过")

    # Only items a community may accept are offered: marriage registration is the district's.
    accept = console.get_by_role("button", name="受理", exact=True)
    expect(accept).to_be_disabled()
    console.fill("#intake-item-search", "MZ-004")
    expect(console.locator("#intake-item option")).to_have_text(["本大厅可受理的事项中没有匹配项。"])
    console.fill("#intake-item-search", "MZ-006")
    expect(console.locator("#intake-item-facts")).to_contain_text("区民政局")
    materials = console.locator("#intake-materials > li")
    expect(materials).to_have_count(4)
    expect(console.locator("#intake-materials .need-required")).to_have_count(3)
    expect(panel).to_contain_text(ITEM)

    # 一次性告知: every required paper not yet ticked is listed, and 受理 waits for them.
    missing = console.locator("#intake-missing-list li")
    expect(missing).to_have_text(REQUIRED)
    console.get_by_label("居民身份证", exact=True).check()
    console.get_by_label("本人社会保障卡或银行卡", exact=True).check()
    expect(missing).to_have_text(["居民户口簿"])
    expect(accept).to_be_disabled()
    expect(console.locator("#intake-blockers")).to_contain_text("全部必需材料")
    expect(panel.locator(".intake-materials .lacking")).to_have_text("居民户口簿(尚缺)")

    # A file that only claims to be a PDF is refused, and the reason shows on its row.
    screens.allow(r"status of 415 .*/api/v1/halls/\d+/attachments\)$")
    row = materials.filter(has_text="居民户口簿")
    row.locator("input[type=file]").set_input_files(
        {"name": "photo.pdf", "mimeType": "application/pdf", "buffer": b"GIF89a not a PDF"}
    )
    expect(row.locator(".field-error")).to_contain_text("文件未保存：photo.pdf")
    expect(row.locator(".field-error")).to_contain_text("文件不是 application/pdf")
    expect(row.locator(".scan")).to_have_count(0)

    # The household register is scanned: stored under its hash, and so received.
    row.locator("input[type=file]").set_input_files(
        {"name": "户口簿.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    digest = hashlib.sha256(PDF).hexdigest()
    expect(row.locator(".scan")).to_contain_text("户口簿.pdf")
    expect(row.locator(".scan-meta")).to_have_text(f"{len(PDF)} B · SHA-256 {digest[:12]}…")
    expect(row.locator("input[type=checkbox]")).to_be_checked()
    expect(console.locator("#intake-missing")).to_be_hidden()
    expect(panel.locator(".intake-materials .got")).to_have_count(3)
    expect(panel).to_contain_text("已扫描")
    console.fill("#intake-note", "由女儿陪同办理")
    expect(accept).to_be_enabled()
    assert ID_NUMBER not in citizen.content()

    # 受理: the case number and due date on both screens, and the receipt in a window of its own.
    with context.expect_page() as opened:
        accept.click()
    done = console.locator("#intake-done")
    expect(done).to_be_visible()
    number = console.locator("#intake-number").inner_text()
    assert re.fullmatch(r"\d{8,32}", number), number
    due = console.locator("#intake-due").inner_text()
    assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", due), due
    accepted = panel.locator(".intake-accepted")
    expect(accepted).to_contain_text("您的申请已受理")
    expect(accepted.locator(".case-number")).to_have_text(number)
    expect(accepted).to_contain_text(due)
    expect(panel).to_contain_text(ITEM)
    expect(console.locator("#intake-name")).to_be_disabled()
    console.evaluate("document.activeElement && document.activeElement.blur()")
    shoot(console, "intake-console")
    shoot(citizen, "intake-citizen")

    receipt = opened.value
    receipt.wait_for_load_state()
    expect(receipt).to_have_url(f"{server.url}/cases/{hall}/{number}/receipt")
    expect(receipt.locator("#receipt-number")).to_have_text(number)
    expect(receipt.locator("#receipt-applicant")).to_have_text("王秀英")
    expect(receipt.locator("#receipt-id")).to_have_text("110***********002X")
    expect(receipt.locator("#receipt-clerk")).to_have_text("1 号窗口 · 工号 LY0203")
    expect(receipt.locator(".receipt-table tbody tr")).to_have_count(3)
    expect(receipt.locator("body")).to_contain_text(f"/track?case={number}")
    assert _qr_drawn(receipt)
    html = receipt.content()
    assert ID_NUMBER not in html and PHONE not in html
    shoot(receipt, "receipt")
    # Printed, it is one page, on A4 and on A5.
    receipt.emulate_media(media="print")
    assert _pages_in(receipt.pdf(prefer_css_page_size=True)) == 1
    receipt.goto(f"/cases/{hall}/{number}/receipt?paper=a5")
    assert _qr_drawn(receipt)
    assert _pages_in(receipt.pdf(prefer_css_page_size=True)) == 1
    receipt.close()

    # The next resident: the form starts over and the citizen screen clears.
    console.get_by_role("button", name="下一件受理").click()
    expect(console.locator("#intake-name")).to_have_value("")
    expect(panel).to_be_hidden()

    # At home, the resident follows the QR code's address and proves the phone's last four digits.
    track = screens.open(f"/track?case={number}", context=resident)
    expect(track.locator("#track-case")).to_have_value(number)
    track.fill("#track-tail", PHONE[-4:])
    track.click("#track-go")
    expect(track.locator("#track-result")).to_be_visible()
    expect(track.locator("#result-number")).to_have_text(number)
    expect(track.locator("#result-name")).to_contain_text(ITEM)
    expect(track.locator("#result-status")).to_contain_text("受理")
    track.evaluate("document.activeElement && document.activeElement.blur()")
    shoot(track, "track-found")
    screens.check()
