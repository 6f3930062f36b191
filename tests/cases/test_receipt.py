"""The 受理回执: the paper a resident takes home after 受理 at a counter. It names the case, the
item, the applicant (ID number masked), the materials handed in, when the case is due and where to
collect the result, and its QR code leads to the public tracking page. Clerks and supervisors of the
case's halls print it; nobody else sees it."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import qrcode
from sqlalchemy import select
from starlette.testclient import TestClient

from hall.storage.database import create_engine
from hall.storage.directory import create_hall
from hall.storage.tables import staff
from hall.web import render
from hall.web.app import create_app
from tests.factories import add_staff
from tests.site import Site, make_site

ID_NUMBER = "11010519491231002X"
PHONE = "138-0013-8000"
MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]
PDF = b"%PDF-1.4\n% scanned household register\n"
PUBLIC = "https://zwfw.xinghe.example.gov.cn"


async def _another_tree(url: str) -> str:
    """A district of another city with one clerk: a tree the sample halls are not part of."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            other = await create_hall(
                conn, code="yh", name="月湖区政务服务中心", level="district", actor="test", now=datetime.now(UTC)
            )
        (clerk,) = await add_staff(engine, other, 1, roles="clerk", prefix="yh")
        async with engine.connect() as conn:
            return str((await conn.execute(select(staff.c.username).where(staff.c.id == clerk))).scalar_one())
    finally:
        await engine.dispose()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The test site, served at its public address, with a clerk of another tree as "stranger"."""
    config, ids, users = make_site(tmp_path, public_url=PUBLIC)
    users["stranger"] = asyncio.run(_another_tree(config.db_url))
    with TestClient(create_app(config), follow_redirects=False) as client:
        yield Site(client, ids, users)


def _accept(site: Site, **changes: Any) -> dict[str, Any]:
    """A community clerk accepts MZ-006 at counter 1, with the household register scanned."""
    community = site.halls["xh-hp-ly"]
    token = site.login("community-clerk")
    scan = site.client.post(
        f"/api/v1/halls/{community}/attachments",
        content=PDF,
        headers={"X-CSRF-Token": token, "Content-Type": "application/pdf", "X-Filename": "hukou.pdf"},
    )
    assert scan.status_code == 200, scan.text
    body = {
        "item": "MZ-006",
        "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": PHONE},
        "materials": MATERIALS,
        "counter": 1,
        "attachments": [{**scan.json(), "filename": "户口簿.pdf", "material": "居民户口簿"}],
        **changes,
    }
    accepted = site.post(f"/api/v1/halls/{community}/cases", token, body)
    assert accepted.status_code == 200, accepted.text
    case: dict[str, Any] = accepted.json()["case"]
    return case


def _text(html: str) -> str:
    """The page's words without its markup, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_receipt_names_the_case_the_item_the_applicant_and_when_it_is_due(site: Site) -> None:
    case = _accept(site)
    number, community = case["number"], site.halls["xh-hp-ly"]
    page = site.client.get(f"/cases/{community}/{number}/receipt")
    assert page.status_code == 200, page.text
    text = _text(page.text)
    assert "受理回执" in text and "柳荫社区党群服务站" in text
    assert f"办件编号 Case number {number}" in text
    assert "八十周岁以上老年人高龄津贴申领" in text and "MZ-006" in text
    assert "王秀英" in text  # the receipt is the applicant's own
    assert "110***********002X" in text
    for material in MATERIALS:
        assert material in text
    # Accepted and due on the hall's clock (Asia/Shanghai), and the promise in working days.
    accepted = datetime.fromisoformat(case["accepted_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    due = datetime.fromisoformat(case["due_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"受理时间 Accepted on {accepted:%Y-%m-%d %H:%M}" in text
    assert f"承诺办结时间 Due by {due:%Y-%m-%d %H:%M}" in text
    assert "10 个工作日" in text
    # Decided by the district (三级联动), collected back at the community.
    assert "审批机关 Decided by 星河区政务服务中心" in text
    assert "请凭本回执和本人身份证件到柳荫社区党群服务站领取" in text
    assert "1 号窗口 · 工号 N0000" in text
    assert "12345" in text and "后四位" in text
    assert f"{PUBLIC}/track?case={number}" in text
    assert 'id="print-receipt"' in page.text


def test_the_full_id_number_and_the_phone_are_never_on_the_receipt(site: Site) -> None:
    # The phone's last four digits unlock the tracking page: a lost receipt must not carry them.
    number = _accept(site)["number"]
    page = site.client.get(f"/cases/{site.halls['xh-hp-ly']}/{number}/receipt").text
    assert ID_NUMBER not in page and ID_NUMBER.lower() not in page
    assert PHONE not in page and "13800138000" not in page and "8000" not in _text(page).replace(number, "")


def test_the_qr_code_leads_to_the_public_tracking_page_of_the_case(site: Site) -> None:
    number = _accept(site)["number"]
    community = site.halls["xh-hp-ly"]
    page = site.client.get(f"/cases/{community}/{number}/receipt").text
    assert f'src="/cases/{community}/{number}/receipt/qr.svg"' in page
    answer = site.client.get(f"/cases/{community}/{number}/receipt/qr.svg")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert ET.fromstring(answer.text).tag == "{http://www.w3.org/2000/svg}svg"
    same = qrcode.make(
        f"{PUBLIC}/track?case={number}",
        image_factory=render.QRImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
    )
    assert answer.text == same.to_string(encoding="unicode")


def test_a_receipt_prints_on_a4_or_a5(site: Site) -> None:
    number = _accept(site)["number"]
    path = f"/cases/{site.halls['xh-hp-ly']}/{number}/receipt"
    assert 'class="receipt-page paper-a4"' in site.client.get(path).text
    assert 'class="receipt-page paper-a5"' in site.client.get(f"{path}?paper=a5").text
    assert 'class="receipt-page paper-a4"' in site.client.get(f"{path}?paper=letter").text


def test_a_case_without_a_phone_points_to_the_hall_and_the_hotline(site: Site) -> None:
    number = _accept(site, applicant={"name": "王秀英", "id_number": ID_NUMBER})["number"]
    text = _text(site.client.get(f"/cases/{site.halls['xh-hp-ly']}/{number}/receipt").text)
    assert "您未登记手机号码" in text and "12345" in text
    assert "后四位" not in text


def test_the_receipt_is_for_staff_of_the_case_s_halls_only(site: Site) -> None:
    number = _accept(site)["number"]
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    receipt = f"/cases/{community}/{number}/receipt"

    site.anonymous()
    page = site.client.get(receipt)
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=/cases/{community}/{number}/receipt"
    assert site.client.get(f"{receipt}/qr.svg").status_code == 401

    # A clerk of another district: not their hall, and not their case at their own hall either.
    site.login("stranger")
    assert site.client.get(receipt).status_code == 403
    assert site.client.get(f"{receipt}/qr.svg").status_code == 403
    yh = site.client.get("/api/v1/me").json()["hall"]
    assert site.client.get(f"/cases/{yh}/{number}/receipt").status_code == 404
    assert site.client.get(f"/cases/{yh}/{number}/receipt/qr.svg").status_code == 404

    # The technician has no business with cases; the district above the community has.
    site.login("technician")
    assert site.client.get(f"/cases/{district}/{number}/receipt").status_code == 403
    site.login("supervisor")
    assert site.client.get(f"/cases/{district}/{number}/receipt").status_code == 200
    assert site.client.get(f"/cases/{district}/{number}/receipt/qr.svg").status_code == 200


def test_an_unknown_case_has_no_receipt(site: Site) -> None:
    site.login("community-clerk")
    community = site.halls["xh-hp-ly"]
    for number in ("2026112300099999", "junk", "1" * 40):
        assert site.client.get(f"/cases/{community}/{number}/receipt").status_code == 404
        assert site.client.get(f"/cases/{community}/{number}/receipt/qr.svg").status_code == 404
