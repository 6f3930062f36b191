"""The service guide in a real browser: a resident looks for a housing fund service, reads its eight
disclosures, and prints its material list on one A4 sheet.

A real ``hall serve`` process and headless Chromium. Screenshots go to
test-artifacts/screenshots/catalog-*.png, the printed list to catalog-materials.pdf beside them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cases.catalog import EIGHT_DISCLOSURES
from cases.catalog_io import sample_catalog
from tests.browsing import Screens, wait_until
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
FUND = [item.code for item in sample_catalog() if "公积金" in item.name]
# A4 in PostScript points, as a PDF's MediaBox gives it.
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("catalog"))
    proc.init()
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"catalog-{name}.png"), full_page=True)


def shown_codes(page: Any) -> list[str]:
    return [
        str(code) for code in page.locator(".catalog-item:visible").evaluate_all("els => els.map(e => e.dataset.code)")
    ]


def test_a_resident_finds_a_service_reads_it_and_prints_its_material_list(screens: Screens) -> None:
    from playwright.sync_api import expect

    guide = screens.open("/catalog", width=1280, height=900)
    expect(guide.locator("h1")).to_contain_text("办事指南")
    assert len(shown_codes(guide)) == len(sample_catalog())
    shoot(guide, "list")

    # Typing narrows the list at once, before the form is sent; the address keeps the search.
    search = guide.get_by_label("按事项名称或编码搜索")
    search.fill("公积金")
    expect(guide.locator("#catalog-count")).to_contain_text(f"找到 {len(FUND)} 个与“公积金”相关的事项")
    assert shown_codes(guide) == FUND
    expect(guide.locator(".catalog-dept:visible")).to_have_count(1)
    expect(guide).to_have_url(re.compile(r"/catalog\?q=%E5%85%AC%E7%A7%AF%E9%87%91$"))
    # Sending the form gives the same list from the server.
    search.press("Enter")
    guide.wait_for_load_state()
    expect(guide.locator("#catalog-all")).to_be_visible()
    assert shown_codes(guide) == FUND
    guide.locator("h1").click()  # no focus ring in the picture
    shoot(guide, "search")

    # The item: its eight disclosures in order, each heading Chinese first.
    guide.get_by_role("link", name=re.compile("住房公积金提取（租赁住房）")).click()
    expect(guide).to_have_url(re.compile(r"/catalog/GJJ-001$"))
    headings = guide.locator("section.disclosure > h2")
    expect(headings).to_have_count(len(EIGHT_DISCLOSURES))
    for number, (_field, chinese) in enumerate(EIGHT_DISCLOSURES):
        expect(headings.nth(number).locator(".main")).to_have_text(chinese)
    expect(guide.locator(".materials-table tbody tr")).to_have_count(len(sample_catalog()["GJJ-001"].materials))
    expect(guide.locator(".detail-head .kind-badge")).to_contain_text("即办")
    expect(guide.locator(".detail-head .fact-time")).to_contain_text("当场办结")
    shoot(guide, "item")

    # On a phone, the material table turns into one card per paper, each line under its label.
    phone = screens.open("/catalog/MZ-001", width=390, height=844, mobile=True)
    first = phone.locator(".materials-table tbody tr").first
    assert first.evaluate("e => getComputedStyle(e).display") == "block"
    expect(first).to_contain_text("必需")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, "item-phone")

    # The material list: a sheet with a box to tick per paper; its button prints it.
    guide.locator("#print-list").click()
    expect(guide).to_have_url(re.compile(r"/catalog/GJJ-001/materials$"))
    boxes = guide.locator(".sheet-table input[type=checkbox]")
    expect(boxes).to_have_count(len(sample_catalog()["GJJ-001"].materials))
    expect(guide.locator(".sheet-bring")).to_contain_text("请携带以上材料到街道便民服务中心或区政务服务中心办理")
    expect(guide.locator(".sheet-phone")).to_have_text("12329")
    boxes.first.check()
    guide.locator("#print-sheet").click()
    wait_until(guide, "window.__prints === 1")
    shoot(guide, "materials")
    # As printed: the width and height A4 leaves inside the sheet's margins (12 mm by 14 mm).
    guide.emulate_media(media="print")
    guide.set_viewport_size({"width": 688, "height": 1032})
    expect(guide.locator(".sheet-tools")).to_be_hidden()
    shoot(guide, "materials-print")
    pdf = guide.pdf(prefer_css_page_size=True, print_background=True)
    (SHOTS / "catalog-materials.pdf").write_bytes(pdf)
    # One A4 page: the sheet fits, and its named page gives the size.
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert box is not None
    assert (float(box.group(1)), float(box.group(2))) == pytest.approx(A4, abs=2)


def test_the_longest_material_list_prints_on_one_a4_page(screens: Screens) -> None:
    longest = max(sample_catalog(), key=lambda item: len(item.materials))
    sheet = screens.open(f"/catalog/{longest.code}/materials")
    sheet.emulate_media(media="print")
    pdf = sheet.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


def test_the_guide_in_english(screens: Screens) -> None:
    from playwright.sync_api import expect

    guide = screens.open("/catalog?lang=en", width=1280, height=900)
    expect(guide.locator("html")).to_have_attribute("lang", "en")
    expect(guide.locator("h1")).to_have_text("Service guide")
    guide.get_by_label("Search by name or code").fill("zzz-nothing")
    expect(guide.locator("#catalog-count")).to_contain_text("No service matches “zzz-nothing”")
    expect(guide.locator(".catalog-item:visible")).to_have_count(0)
    guide.get_by_label("Search by name or code").fill("")
    expect(guide.locator("#catalog-count")).to_have_text(f"{len(sample_catalog())} services")
    item = screens.open("/catalog/MZ-001?lang=en", width=1280, height=900)
    expect(item.locator("section.disclosure > h2").first).to_contain_text("Item name")
    shoot(item, "item-en")
