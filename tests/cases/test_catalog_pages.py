"""The service guide (办事指南) over HTTP: the catalog by department with its search, an item's eight
disclosures (八公开), its printable material list, the same catalog as JSON, and the catalog file the
server starts with. Anyone may read them; they show the catalog, nothing of any person.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from cases.catalog import EIGHT_DISCLOSURES, Catalog, Kind
from cases.catalog_io import dump_yaml, sample_catalog
from hall import cli
from hall.kernel.errors import SettingsError
from hall.runtime import load_catalog
from hall.settings import Settings, from_env
from hall.web.app import create_app
from tests.queueing.test_public_pages import assert_csp_clean
from tests.site import Site, make_site

CATALOG = sample_catalog()
FUND = [item.code for item in CATALOG if "公积金" in item.name]


def text_of(page: str) -> str:
    """What a reader sees: the page without its tags, entities undone, spaces squeezed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def listed_codes(page: str) -> list[str]:
    return re.findall(r'<li class="catalog-item" data-code="([^"]+)"', page)


def sections(page: str) -> dict[str, str]:
    """Each department's section of the list, by department."""
    found = re.findall(r'<section class="catalog-dept"[^>]*data-department="([^"]+)"(.*?)</section>', page, re.S)
    return dict(found)


def item_card(page: str, code: str) -> str:
    found = re.search(rf'<li class="catalog-item" data-code="{code}".*?</ul>\s*</li>', page, re.S)
    assert found is not None, code
    return text_of(found.group(0))


def disclosure(page: str, field: str) -> str:
    found = re.search(rf'<section class="disclosure" id="{field}".*?</section>', page, re.S)
    assert found is not None, field
    return found.group(0)


# -------------------------------------------------------------------------------------------- the list


def test_the_home_page_offers_the_service_guide_to_residents(site: Site) -> None:
    home = site.client.get("/").text
    assert '<a href="/catalog">办事指南</a>' in home


def test_the_guide_lists_every_item_grouped_by_department_in_catalog_order(site: Site) -> None:
    site.anonymous()
    answer = site.client.get("/catalog")
    assert answer.status_code == 200
    page = answer.text
    assert '<html lang="zh-CN"' in page
    assert "<title>办事指南 · hall</title>" in page
    assert listed_codes(page) == [item.code for item in CATALOG]
    assert list(sections(page)) == CATALOG.departments()
    for department, section in sections(page).items():
        assert listed_codes(section) == [item.code for item in CATALOG.by_department(department)]
        assert f"共 {len(CATALOG.by_department(department))} 个事项" in text_of(section)
    assert f"共 {len(CATALOG)} 个事项" in text_of(page)
    assert_csp_clean(page)


def test_each_listed_item_says_its_kind_time_online_and_levels_in_words(site: Site) -> None:
    page = site.client.get("/catalog").text
    dibao = item_card(page, "MZ-001")
    assert "最低生活保障申请" in dibao and "Application for the minimum living allowance" in dibao
    assert "承诺件 Promised" in dibao
    assert "承诺 20 个工作日办结 Done within 20 working days" in dibao
    assert "可网上办理 Can be applied for online" in dibao
    # 三级联动: residents apply at the community or street hall, nearest first.
    assert "可在社区/街道受理 Accepted at community / street halls" in dibao
    marriage = item_card(page, "MZ-004")
    assert "即办 Instant" in marriage and "当场办结 Done on the spot" in marriage
    assert "需到窗口办理 Apply at a window" in marriage
    assert "可在区受理" in marriage
    # The kind is a word with a class for its sign and colour, never a colour alone.
    for kind in Kind:
        assert re.search(rf'class="fact kind-badge kind-{kind.value}"><span class="main">{kind.label}</span>', page)
    assert "可在社区/街道/区受理" in item_card(page, "RS-001")


def test_searching_by_name_keeps_the_matching_items_under_their_department(site: Site) -> None:
    page = site.client.get("/catalog", params={"q": "公积金"}).text
    assert FUND and listed_codes(page) == FUND
    assert list(sections(page)) == ["住房公积金管理中心区管理部"]
    assert f"找到 {len(FUND)} 个与“公积金”相关的事项" in text_of(page)
    assert 'name="q" type="search" value="公积金"' in page
    assert '<a id="catalog-all" class="show-all" href="/catalog">' in page


def test_searching_ignores_case_and_spaces_and_reads_codes_and_english_names(site: Site) -> None:
    assert listed_codes(site.client.get("/catalog?q=mz-004").text) == ["MZ-004"]
    withdrawals = [item.code for item in CATALOG if "公积金提取" in item.name]
    assert listed_codes(site.client.get("/catalog", params={"q": " 公积金 提取 "}).text) == withdrawals
    marriage = [item.code for item in CATALOG if "marriage" in item.name_en.lower()]
    assert marriage and listed_codes(site.client.get("/catalog?q=Marriage").text) == marriage


def test_a_search_that_finds_nothing_says_so_and_offers_the_whole_list(site: Site) -> None:
    page = site.client.get("/catalog", params={"q": "<b>驾照</b>"}).text
    assert listed_codes(page) == []
    assert "没有找到与“<b>驾照</b>”相关的事项" in text_of(page)
    assert "<b>驾照</b>" not in page  # the query is shown as text, never as markup
    assert "显示全部事项" in page


def test_the_guide_in_english_leads_with_english_and_keeps_the_chinese_names(site: Site) -> None:
    page = site.client.get("/catalog?lang=en").text
    assert '<html lang="en"' in page
    assert '<h1><span class="main">Service guide</span></h1>' in page
    assert "办事指南" not in page
    card = item_card(page, "GJJ-005")
    assert "Housing fund withdrawal to buy a home 住房公积金提取（购买自住住房）" in card
    assert "Promised" in card and "承诺件" not in card
    assert "Done within 1 working day" in card  # one day, not one days
    assert "Accepted at street / district halls" in item_card(page, "GJJ-001")
    assert "The details of each service are published in Chinese." in page


# -------------------------------------------------------------------------------------------- an item


def test_an_item_shows_its_eight_disclosures_in_order_with_chinese_headings_first(site: Site) -> None:
    site.anonymous()
    answer = site.client.get("/catalog/MZ-001")
    assert answer.status_code == 200
    page = answer.text
    headings = re.findall(
        r'<section class="disclosure" id="(\w+)".*?<h2[^>]*>.*?<span class="main">([^<]+)</span>'
        r'<span class="en" lang="en">([^<]+)</span></h2>',
        page,
        re.S,
    )
    assert [(field, chinese) for field, chinese, _english in headings] == list(EIGHT_DISCLOSURES)
    assert [english for *_, english in headings] == [
        "Item name",
        "Legal basis",
        "Conditions",
        "Materials",
        "Procedure",
        "Time limit",
        "Fees",
        "Window",
    ]
    assert "<title>最低生活保障申请 · 办事指南 · hall</title>" in page
    assert_csp_clean(page)


def test_an_item_discloses_its_basis_conditions_procedure_time_fees_and_window(site: Site) -> None:
    item = CATALOG["MZ-001"]
    page = site.client.get("/catalog/MZ-001").text
    named = text_of(disclosure(page, "name"))
    assert item.name in named and item.name_en in named and "MZ-001" in named
    assert "实施部门 Department 区民政局" in named and "承诺件 Promised" in named
    for law in item.legal_basis:
        assert law in text_of(disclosure(page, "legal_basis"))
    for condition in item.conditions:
        assert condition in text_of(disclosure(page, "conditions"))
    steps = re.findall(r"<li>(.*?)</li>", disclosure(page, "procedure"), re.S)
    assert [text_of(step).replace(" ：", "：") for step in steps] == list(item.procedure)
    assert '<ol class="procedure"' in disclosure(page, "procedure")  # the steps are numbered, in order
    time = text_of(disclosure(page, "time_limit_days"))
    assert "20 个工作日 20 working days" in time and "法定时限：30 个工作日" in time
    assert text_of(disclosure(page, "fees")).endswith(item.fees)
    window = text_of(disclosure(page, "window"))
    assert item.window in window
    assert "受理层级 Accepted at 社区/街道" in window and "审批层级 Decided at 区" in window
    assert "咨询电话 Consultation phone 12345" in window
    assert "三级联动：就近受理，由受理大厅转区级审批。" in window
    assert page.count('href="/catalog/MZ-001/materials"') >= 1
    assert "打印材料清单" in page


def test_an_instant_item_is_done_on_the_spot_within_its_statutory_limit(site: Site) -> None:
    page = site.client.get("/catalog/GJJ-001").text
    time = text_of(disclosure(page, "time_limit_days"))
    assert "当场办结 Done on the spot" in time and "法定时限：3 个工作日" in time
    assert "三级联动" in page  # a street hall accepts it, the district decides


def test_an_item_decided_where_it_is_accepted_is_not_routed(site: Site) -> None:
    assert not CATALOG["MZ-004"].routed
    assert "三级联动" not in site.client.get("/catalog/MZ-004").text


def test_the_material_table_says_in_words_which_papers_are_required(site: Site) -> None:
    item = CATALOG["MZ-001"]
    table = disclosure(site.client.get("/catalog/MZ-001").text, "materials")
    rows = re.findall(r'<tr class="(is-required|is-optional)">(.*?)</tr>', table, re.S)
    assert len(rows) == len(item.materials)
    for (kind, row), material in zip(rows, item.materials, strict=True):
        cells = [text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        word = "必需 Required" if material.required else "非必需 Optional"
        assert cells[1:] == [material.name, cells[2], str(material.copies), word, material.note or "—"]
        assert cells[2].startswith(material.form.label)
        assert kind == ("is-required" if material.required else "is-optional")
    assert "必需 5 项，非必需 1 项" in text_of(table)
    assert "原件及复印件 Original and photocopy" in text_of(table)


def test_an_item_in_english_has_english_headings_around_the_chinese_texts(site: Site) -> None:
    page = site.client.get("/catalog/MZ-001?lang=en").text
    assert '<html lang="en"' in page
    assert "Legal basis" in page and "设定依据" not in page
    assert "Required" in page and "Optional" in page and "非必需" not in page
    assert '<span class="main">Application for the minimum living allowance (dibao)</span>' in page
    assert '<span class="en" lang="zh-CN">最低生活保障申请</span>' in page
    assert "《社会救助暂行办法》" in page  # the disclosures themselves are published in Chinese
    assert "Apply near home: the hall that accepts it passes it on to the district level" in page


# -------------------------------------------------------------------------------------- material list


def test_the_material_list_is_a_sheet_to_tick_with_where_to_bring_it(site: Site) -> None:
    item = CATALOG["MZ-006"]
    site.anonymous()
    answer = site.client.get("/catalog/MZ-006/materials")
    assert answer.status_code == 200
    page = answer.text
    assert 'class="topbar"' not in page  # the sheet alone prints
    assert "办事材料清单" in page and item.name in page and "MZ-006" in page
    assert page.count('type="checkbox"') == len(item.materials)
    for material in item.materials:
        assert material.name in page
    sheet = text_of(page)
    assert "必需 Required" in sheet and "非必需 Optional" in sheet
    assert "请携带以上材料到社区便民服务站或街道便民服务中心办理。" in sheet
    assert "Please bring the materials above to a community service station or a street service center." in sheet
    assert "咨询电话 Consultation phone 12345" in sheet
    public = site.client.app.state.hall.settings.base_url  # type: ignore[attr-defined]
    assert f"完整办事指南：{public}/catalog/MZ-006" in sheet  # the hall's address, not the request's Host
    assert 'id="print-sheet"' in page and 'src="/static/js/catalog.js"' in page
    assert_csp_clean(page)


def test_the_material_list_prints_on_a4(site: Site) -> None:
    css = site.client.get("/static/css/hall.css").text
    assert "@page a4-sheet { size: A4;" in css
    assert re.search(r"\.sheet \{[^}]*page: a4-sheet;", css)


def test_a_district_only_item_sends_the_resident_to_the_district_center(site: Site) -> None:
    page = site.client.get("/catalog/MZ-004/materials").text
    assert "请携带以上材料到区政务服务中心办理。" in text_of(page)


@pytest.mark.parametrize("path", ["/catalog/XX-999", "/catalog/XX-999/materials", "/catalog/mz-001"])
def test_an_unknown_code_gets_the_sites_not_found_page(site: Site, path: str) -> None:
    answer = site.client.get(path)
    assert answer.status_code == 404
    assert "没有这个事项。" in answer.text
    assert '<a href="/">返回首页</a>' in answer.text


# -------------------------------------------------------------------------------------------- the API


def test_the_api_lists_the_catalog_to_anyone(site: Site) -> None:
    site.anonymous()
    answer = site.client.get("/api/v1/catalog")
    assert answer.status_code == 200
    listed = answer.json()
    assert [entry["code"] for entry in listed] == [item.code for item in CATALOG]
    assert listed[0] == {
        "code": "MZ-001",
        "name": "最低生活保障申请",
        "name_en": "Application for the minimum living allowance (dibao)",
        "department": "区民政局",
        "kind": "promised",
        "kind_label": "承诺件",
        "time_limit_days": 20,
        "online": True,
        "accept_levels": ["street", "community"],
        "decide_level": "district",
        "url": "/catalog/MZ-001",
    }
    found = site.client.get("/api/v1/catalog", params={"q": "公积金"}).json()
    assert [entry["code"] for entry in found] == FUND


def test_the_api_gives_an_item_with_all_eight_disclosures(site: Site) -> None:
    item = CATALOG["MZ-001"]
    answer = site.client.get("/api/v1/catalog/MZ-001")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    for field, _heading in EIGHT_DISCLOSURES:
        assert field in body
    assert body["legal_basis"] == list(item.legal_basis)
    assert body["procedure"] == list(item.procedure)
    assert body["materials"][1] == {
        "name": "居民身份证",
        "form": "original_and_copy",
        "form_label": "原件及复印件",
        "copies": 1,
        "required": True,
        "note": "共同生活的家庭成员均需提供",
    }
    assert body["materials"][-1]["required"] is False
    assert (body["time_limit_days"], body["statutory_limit_days"]) == (20, 30)
    assert body["stage_limits"] == {"accept": 1, "review": 14, "approve": 5}
    assert body["routed"] is True and body["consult_phone"] == "12345"


def test_the_api_answers_an_unknown_code_with_not_found(site: Site) -> None:
    answer = site.client.get("/api/v1/catalog/XX-999")
    assert answer.status_code == 404
    assert answer.json() == {
        "code": "not_found",
        "error": "not_found",
        "message": "没有编码为“XX-999”的事项",
    }


def test_the_openapi_document_describes_the_catalog(site: Site) -> None:
    paths = site.client.get("/api/v1/openapi.json").json()["paths"]
    assert paths["/api/v1/catalog"]["get"]["summary"].startswith("The public service catalog")
    assert "eight disclosures" in paths["/api/v1/catalog/{code}"]["get"]["summary"]


# ---------------------------------------------------------------------------------- the catalog file


def write_catalog(tmp_path: Path, catalog: Catalog) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(dump_yaml(catalog), encoding="utf-8")
    return path


def test_without_a_catalog_file_the_hall_publishes_the_sample() -> None:
    assert load_catalog(None) == CATALOG


def test_the_catalog_file_comes_from_hall_catalog(tmp_path: Path) -> None:
    assert from_env({}).catalog_file is None
    assert from_env({"HALL_CATALOG": str(tmp_path / "c.yaml")}).catalog_file == tmp_path / "c.yaml"


def test_a_sound_catalog_file_is_what_the_pages_show(tmp_path: Path) -> None:
    mine = Catalog([CATALOG["MZ-004"], CATALOG["GJJ-001"]])
    assert load_catalog(write_catalog(tmp_path, mine)) == mine
    settings, _ids, _users = make_site(tmp_path, catalog_file=tmp_path / "catalog.yaml")
    with TestClient(create_app(settings)) as client:
        assert listed_codes(client.get("/catalog").text) == ["MZ-004", "GJJ-001"]
        assert client.get("/catalog/MZ-001").status_code == 404


def test_an_unsound_catalog_stops_the_start_naming_its_problems(tmp_path: Path) -> None:
    wrong = Catalog([replace(CATALOG["MZ-004"], fees="", time_limit_days=5, statutory_limit_days=5)])
    path = write_catalog(tmp_path, wrong)
    with pytest.raises(SettingsError) as refused:
        load_catalog(path)
    message = str(refused.value)
    assert message.startswith(f"HALL_CATALOG {path} has 2 problems: ")
    assert "MZ-004, fees: is blank" in message
    assert "MZ-004, time_limit_days: a 即办 item is done on the spot, so its limit is 0, not 5" in message
    assert "\n" not in message  # one line, as every settings error


def test_a_catalog_with_many_problems_names_the_first_five_and_counts_the_rest(tmp_path: Path) -> None:
    blank = Catalog([replace(item, fees="") for item in list(CATALOG)[:8]])
    with pytest.raises(SettingsError, match=r"has 8 problems: .*; and 3 more$") as refused:
        load_catalog(write_catalog(tmp_path, blank))
    assert str(refused.value).count("fees: is blank") == 5


def test_a_file_that_is_not_a_catalog_stops_the_start_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("version: 1\nitems:\n  - code: MZ-001\n    kind: sometimes\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"^HALL_CATALOG {re.escape(str(path))} is not a catalog: line 3"):
        load_catalog(path)


def test_a_missing_or_empty_catalog_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot be read"):
        load_catalog(tmp_path / "nowhere.yaml")
    with pytest.raises(SettingsError, match="lists no service items"):
        load_catalog(write_catalog(tmp_path, Catalog()))


def test_the_server_refuses_to_start_with_an_unsound_catalog(tmp_path: Path) -> None:
    path = write_catalog(tmp_path, Catalog([replace(CATALOG["MZ-001"], window=" ")]))
    with pytest.raises(SettingsError, match="window: is blank"):
        create_app(Settings(db_url=f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}", catalog_file=path))
    # Nothing was written on the way: the key file appears only when the server does start.
    assert not (tmp_path / ".hall-secret").exists()


def test_hall_serve_says_what_is_wrong_with_the_catalog_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    settings, _ids, _users = make_site(tmp_path)
    path = write_catalog(tmp_path, Catalog([replace(CATALOG["MZ-001"], consult_phone="call us")]))
    monkeypatch.setenv("HALL_CATALOG", str(path))
    monkeypatch.setenv("HALL_SECRET_KEY", "k" * 48)

    def must_not_serve(self: Any) -> None:
        raise AssertionError("the server started with an unsound catalog")

    monkeypatch.setattr(uvicorn.Server, "run", must_not_serve)
    assert cli.main(["serve", "--db", settings.db_url]) == 2
    printed = capsys.readouterr().err.strip().splitlines()
    assert printed == [
        f"hall: HALL_CATALOG {path} has 1 problem: MZ-001, consult_phone: 'call us' is not a phone number "
        "(digits, and hyphens between them)"
    ]


def test_anyone_downloads_the_whole_catalog_as_yaml_or_csv(site: Site) -> None:
    from cases.catalog_io import load_csv, load_yaml, sample_catalog

    site.anonymous()
    yaml_file = site.client.get("/api/v1/catalog", params={"format": "yaml"})
    assert yaml_file.status_code == 200 and "catalog.yaml" in yaml_file.headers["content-disposition"]
    assert load_yaml(yaml_file.text) == sample_catalog()
    sheet = site.client.get("/api/v1/catalog", params={"format": "csv"})
    assert sheet.status_code == 200 and sheet.content.startswith(b"\xef\xbb\xbf")
    assert load_csv(sheet.content.decode("utf-8-sig")) == sample_catalog()
    assert site.client.get("/api/v1/catalog", params={"format": "xml"}).status_code == 422
