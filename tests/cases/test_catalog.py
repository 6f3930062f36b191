"""The service catalog (事项) and its eight disclosures (八公开), as specifications: the sample the project
ships, the mistakes ``validate()`` names, YAML and CSV that come back exactly as they went out, and
input that does not load pointing at the line, row, item and field that is wrong."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.catalog import (
    EIGHT_DISCLOSURES,
    Catalog,
    Form,
    Item,
    Kind,
    Level,
    Material,
    Problem,
    StageLimits,
    in_tree_order,
)
from cases.catalog_io import (
    COLUMNS,
    CatalogFormatError,
    dump_csv,
    dump_yaml,
    load_csv,
    load_yaml,
    sample_catalog,
)
from hall.storage.directory import LEVELS

SAMPLE = sample_catalog()
AREAS = {
    "MZ": "区民政局",
    "RS": "区人力资源和社会保障局",
    "GJJ": "住房公积金管理中心区管理部",
    "HJ": "区公安分局",
    "CL": "区残疾人联合会",
}

ID_CARD = Material("居民身份证", Form.ORIGINAL_AND_COPY)


def promised(**changes: object) -> Item:
    """A sound 承诺件 accepted at community and street halls and decided at the district."""
    sound = Item(
        code="MZ-101",
        name="临时救助申请",
        department="区民政局",
        kind=Kind.PROMISED,
        legal_basis=("《社会救助暂行办法》",),
        conditions=("基本生活暂时出现严重困难",),
        materials=(ID_CARD, Material("临时救助申请书")),
        procedure=("申请", "审核", "审批", "发放"),
        time_limit_days=10,
        statutory_limit_days=10,
        fees="不收费",
        window="街道便民服务中心社会救助窗口",
        accept_levels=frozenset({Level.COMMUNITY, Level.STREET}),
        decide_level=Level.DISTRICT,
        stage_limits=StageLimits(accept=1, review=6, approve=3),
        online=True,
        consult_phone="12345",
    )
    return replace(sound, **changes)  # type: ignore[arg-type]


def instant(**changes: object) -> Item:
    base = promised(code="MZ-102", name="结婚登记", kind=Kind.INSTANT, time_limit_days=0, stage_limits=None)
    return replace(base, **changes)  # type: ignore[arg-type]


def problems(*items: Item) -> list[str]:
    return [str(p) for p in Catalog(items).validate()]


# ------------------------------------------------------------------------------------ the sample


def test_the_sample_catalog_loads_and_is_sound() -> None:
    assert len(SAMPLE) >= 24
    assert SAMPLE.validate() == []


def test_the_sample_covers_civil_affairs_social_security_housing_fund_household_registration_and_disability_aid() -> (
    None
):
    for prefix, department in AREAS.items():
        codes = [item.code for item in SAMPLE.by_department(department)]
        assert len(codes) >= 4, department
        assert all(code.startswith(prefix + "-") for code in codes)
    assert set(SAMPLE.departments()) == set(AREAS.values())


def test_the_sample_names_the_items_residents_ask_for() -> None:
    names = {item.name for item in SAMPLE}
    for wanted in (
        "最低生活保障申请",
        "临时救助申请",
        "结婚登记",
        "灵活就业人员参保登记",
        "社会保障卡补换",
        "企业职工基本养老保险待遇申领",
        "失业保险金申领",
        "住房公积金提取（租赁住房）",
        "住房公积金提取（离休、退休）",
        "住房公积金单位缴存登记",
        "个人住房公积金贷款申请",
        "出生登记",
        "户口迁入",
        "居民身份证换领",
        "残疾人证新办",
        "困难残疾人生活补贴和重度残疾人护理补贴申请",
        "残疾人辅助器具适配",
    ):
        assert wanted in names


def test_every_sample_item_discloses_all_eight() -> None:
    for item in SAMPLE:
        for name, heading in EIGHT_DISCLOSURES:
            # A time limit of 0 is a disclosure too: 当场办结.
            assert getattr(item, name) or name == "time_limit_days", (item.code, heading)
        assert item.department and item.consult_phone and item.name_en


def test_sample_legal_bases_name_laws_and_regulations_without_quoting_them() -> None:
    for item in SAMPLE:
        assert any(basis.startswith("《") for basis in item.legal_basis), item.code
        assert not any("第" in basis and "条" in basis for basis in item.legal_basis), item.code


def test_the_sample_mixes_the_four_kinds_with_their_time_limits() -> None:
    kinds = {item.kind for item in SAMPLE}
    assert kinds == set(Kind)
    for item in SAMPLE:
        if item.kind is Kind.INSTANT:
            assert item.time_limit_days == 0 and item.stage_limits is None
        if item.kind is Kind.PROMISED:
            assert 1 <= item.time_limit_days <= 20
    promises = [item for item in SAMPLE if item.kind is Kind.PROMISED]
    assert sum(3 <= item.time_limit_days <= 20 for item in promises) > len(promises) * 3 // 4
    assert sum(item.stage_limits is not None for item in SAMPLE) >= 10


def test_the_sample_shows_three_level_linkage_and_keeps_marriage_at_the_district() -> None:
    linked = [
        item
        for item in SAMPLE
        if Level.COMMUNITY in item.accept_levels and item.decide_level is Level.DISTRICT and item.routed
    ]
    assert len(linked) >= 5
    marriage = next(item for item in SAMPLE if item.name == "结婚登记")
    assert marriage.accept_levels == {Level.DISTRICT}
    assert marriage.kind is Kind.INSTANT


def test_identity_cards_are_handled_by_the_police_well_inside_the_statutory_sixty_days() -> None:
    renewal = next(item for item in SAMPLE if item.name == "居民身份证换领")
    assert renewal.department == "区公安分局"
    assert renewal.time_limit_days <= 10 < renewal.statutory_limit_days == 60
    temporary = next(item for item in SAMPLE if item.name == "临时居民身份证申领")
    assert temporary.kind is Kind.INSTANT


def test_catalog_levels_are_the_levels_of_the_hall_tree() -> None:
    assert tuple(level.value for level in Level) == LEVELS
    assert [level.label for level in in_tree_order({Level.COMMUNITY, Level.DISTRICT, Level.STREET})] == [
        "区",
        "街道",
        "社区",
    ]


def test_kinds_carry_their_chinese_labels() -> None:
    assert [kind.label for kind in Kind] == ["即办", "承诺件", "代办", "备案"]
    assert [form.label for form in Form] == ["原件", "复印件", "原件及复印件"]


# ------------------------------------------------------------------------------------ lookups


def test_a_catalog_finds_items_by_code_department_and_the_level_that_may_accept_them() -> None:
    assert SAMPLE["MZ-004"].name == "结婚登记"
    assert "MZ-004" in SAMPLE and "XX-999" not in SAMPLE
    assert SAMPLE.get("XX-999") is None
    assert [item.code for item in SAMPLE.by_department("区公安分局")] == [f"HJ-00{n}" for n in range(1, 7)]
    community = {item.code for item in SAMPLE.accepted_at(Level.COMMUNITY)}
    assert "MZ-001" in community and "MZ-004" not in community
    assert "MZ-003" in {item.code for item in SAMPLE.decided_at(Level.STREET)}


def test_the_printed_material_list_keeps_the_order_and_marks_what_is_optional() -> None:
    dibao = SAMPLE["MZ-001"]
    assert [m.name for m in dibao.materials][:2] == ["最低生活保障申请书", "居民身份证"]
    optional = [m.name for m in dibao.materials if not m.required]
    assert optional == ["残疾人证或重病诊断证明"]
    assert len(dibao.required_materials) == len(dibao.materials) - 1


def test_a_repeated_code_finds_the_first_item() -> None:
    catalog = Catalog([promised(), promised(name="另一个")])
    assert catalog["MZ-101"].name == "临时救助申请"


# ------------------------------------------------------------------------------------ validation


def test_a_sound_item_has_no_problems() -> None:
    assert problems(promised(), instant()) == []


def test_two_items_with_one_code_are_named_together() -> None:
    assert problems(promised(), promised(name="医疗救助申请")) == [
        "MZ-101, code: 2 items share this code: 临时救助申请、医疗救助申请"
    ]


def test_the_statutory_limit_is_never_shorter_than_the_promise() -> None:
    assert problems(promised(statutory_limit_days=5)) == [
        "MZ-101, statutory_limit_days: the statutory limit of 5 working days is shorter than the promised 10; "
        "a hall never promises more time than the law allows"
    ]


def test_the_deciding_level_must_be_a_level_of_the_hall_tree() -> None:
    assert problems(promised(decide_level=cast(Level, "city"))) == [
        "MZ-101, decide_level: 'city' is not a hall level (district 区, street 街道, community 社区)"
    ]


def test_an_accepting_level_must_be_a_level_of_the_hall_tree() -> None:
    levels = frozenset({Level.STREET, cast(Level, "province")})
    assert problems(promised(accept_levels=levels)) == [
        "MZ-101, accept_levels: 'province' is not a hall level (district 区, street 街道, community 社区)"
    ]


def test_an_instant_item_has_no_stages_to_time() -> None:
    assert problems(instant(stage_limits=StageLimits(0, 0, 0))) == [
        "MZ-102, stage_limits: a 即办 item is done on the spot and has no stages to time"
    ]


def test_an_instant_item_promises_no_days_and_a_promised_item_at_least_one() -> None:
    assert problems(instant(time_limit_days=2, statutory_limit_days=2)) == [
        "MZ-102, time_limit_days: a 即办 item is done on the spot, so its limit is 0, not 2"
    ]
    assert problems(promised(time_limit_days=0, stage_limits=None)) == [
        "MZ-101, time_limit_days: a 承诺件 item promises at least one working day; 0 means 即办"
    ]
    proxied = promised(kind=Kind.PROXIED, time_limit_days=0, stage_limits=None)
    assert problems(proxied) == ["MZ-101, time_limit_days: a 代办 item promises at least one working day; 0 means 即办"]


def test_a_filing_may_be_done_on_the_spot() -> None:
    assert problems(promised(kind=Kind.FILING, time_limit_days=0, stage_limits=None)) == []


def test_an_item_lists_its_materials() -> None:
    assert problems(promised(materials=())) == [
        "MZ-101, materials: is empty; an item lists at least the applicant's identity document"
    ]


def test_each_material_is_named_once_with_at_least_one_copy() -> None:
    materials = (ID_CARD, Material(" "), Material("居民身份证", copies=0))
    assert problems(promised(materials=materials)) == [
        "MZ-101, materials[2].name: is blank",
        "MZ-101, materials[3].name: 居民身份证 is listed twice",
        "MZ-101, materials[3].copies: must be at least 1, not 0",
    ]


def test_an_item_no_level_may_accept_is_reported() -> None:
    assert problems(promised(accept_levels=frozenset())) == [
        "MZ-101, accept_levels: is empty; no hall level may accept the item, so no resident can apply"
    ]


def test_the_stages_fit_inside_the_promise() -> None:
    assert problems(promised(stage_limits=StageLimits(accept=1, review=8, approve=3))) == [
        "MZ-101, stage_limits: the stages add up to 12 working days, more than the promised 10"
    ]
    assert problems(promised(stage_limits=StageLimits(accept=-1, review=6, approve=3))) == [
        "MZ-101, stage_limits.accept: must not be negative, not -1"
    ]


def test_every_disclosure_is_filled_in() -> None:
    blank = promised(name="", fees=" ", window="", legal_basis=(), conditions=("", "有困难"), procedure=())
    assert problems(blank) == [
        "MZ-101, name: is blank",
        "MZ-101, fees: is blank; fees are one of the eight disclosures (write 不收费 for a free item)",
        "MZ-101, window: is blank; residents must be told which window or authority handles the item",
        "MZ-101, legal_basis: is empty; it is one of the eight disclosures",
        "MZ-101, conditions: entry 1 is blank",
        "MZ-101, procedure: is empty; it is one of the eight disclosures",
    ]


def test_codes_and_phone_numbers_have_their_shapes() -> None:
    assert problems(promised(code="mz1", consult_phone="一二三")) == [
        "mz1, code: 'mz1' is not a code like MZ-001 (2–4 capital letters, a hyphen, three digits)",
        "mz1, consult_phone: '一二三' is not a phone number (digits, and hyphens between them)",
    ]
    assert problems(promised(consult_phone="0571-87654321"), instant(consult_phone="")) == []


def test_validation_names_every_problem_at_once_item_by_item() -> None:
    found = Catalog([promised(materials=()), instant(time_limit_days=1, statutory_limit_days=0)]).validate()
    assert [(p.item, p.field) for p in found] == [
        ("MZ-101", "materials"),
        ("MZ-102", "statutory_limit_days"),
        ("MZ-102", "time_limit_days"),
    ]
    assert found[0] == Problem("MZ-101", "materials", found[0].message)


# ------------------------------------------------------------------------------------ round trips


def test_the_sample_comes_back_from_yaml_and_csv_unchanged() -> None:
    assert load_yaml(dump_yaml(SAMPLE)) == SAMPLE
    assert load_csv(dump_csv(SAMPLE)) == SAMPLE


def test_texts_holding_unicode_line_breaks_come_back_from_yaml() -> None:
    # PyYAML reads NEL, LS and PS written inside single quotes back as something else.
    odd = promised(name="低保\x85申请", fees="不收费\u2028", window="\u2029窗口", name_en="a\x85 b\n c")
    assert load_yaml(dump_yaml(Catalog([odd]))) == Catalog([odd])


def test_yaml_keeps_chinese_readable() -> None:
    text = dump_yaml(SAMPLE)
    assert "name: 最低生活保障申请" in text
    assert "\\u" not in text


def test_csv_writes_one_row_per_item_with_lists_joined_by_semicolons() -> None:
    rows = dump_csv(Catalog([promised()])).splitlines()
    assert rows[0] == ",".join(COLUMNS)
    assert rows[1] == (
        "MZ-101,临时救助申请,,区民政局,承诺件,《社会救助暂行办法》,基本生活暂时出现严重困难,"
        "居民身份证|原件及复印件|1|必需;临时救助申请书|原件|1|必需,申请;审核;审批;发放,10,10,不收费,"
        "街道便民服务中心社会救助窗口,街道;社区,区,受理=1;审核=6;审批=3,是,12345"
    )


def test_csv_escapes_separators_inside_texts_with_a_backslash() -> None:
    tricky = promised(
        conditions=("收入;财产", "a|b", "C:\\path"),
        materials=(Material("证明|复印", Form.COPY, 2, required=False, note="按需;提供"),),
    )
    cells = dump_csv(Catalog([tricky])).splitlines()[1]
    assert "收入\\;财产;a\\|b;C:\\\\path" in cells
    assert "证明\\|复印|复印件|2|非必需|按需\\;提供" in cells
    assert load_csv(dump_csv(Catalog([tricky]))) == Catalog([tricky])


def test_csv_from_a_spreadsheet_tolerates_spaces_stray_separators_a_bom_and_identifiers() -> None:
    rows = dump_csv(Catalog([promised()])).splitlines()
    edited = rows[1].replace("申请;审核;审批;发放", "申请; 审核 ;审批;发放;").replace(",承诺件,", ",promised,")
    edited = edited.replace("街道;社区", "street; community").replace("|必需;", "|required; ;")
    assert load_csv("\ufeff" + rows[0] + "\r\n" + edited + "\r\n") == Catalog([promised()])


def test_csv_columns_may_come_in_any_order() -> None:
    rows = list(zip(*(line.split(",") for line in dump_csv(Catalog([instant()])).splitlines()), strict=True))
    shuffled = rows[::-1]
    text = "\n".join(",".join(row[i] for row in shuffled) for i in range(2))
    assert load_csv(text) == Catalog([instant()])


def _texts(*, entry: bool = False) -> st.SearchStrategy[str]:
    # Separators, escapes, quotes and line breaks are where encodings go wrong, so texts are runs of
    # those mixed with runs of any character (one alphabet of both would be ten times slower to draw).
    tricky = st.text(st.sampled_from("最低生活保障；，、：《》() \n\r\t;|\\=,\"'#:-{}[]&*!?%@`~1a"), max_size=5)
    anything = st.text(st.characters(codec="utf-8"), max_size=3)
    text = st.lists(tricky | anything, max_size=3).map("".join)
    # CSV trims list entries and drops empty ones, so a generated entry is already trimmed and non-empty.
    return text.map(str.strip).filter(bool) if entry else text


def _items() -> st.SearchStrategy[Item]:
    entries = st.lists(_texts(entry=True), max_size=3).map(tuple)
    materials = st.builds(
        Material,
        name=_texts(entry=True),
        form=st.sampled_from(Form),
        copies=st.integers(),
        required=st.booleans(),
        note=st.just("") | _texts(entry=True),
    )
    days = st.integers(min_value=-5, max_value=10**6)
    return st.builds(
        Item,
        code=_texts(),
        name=_texts(),
        name_en=_texts(),
        department=_texts(),
        kind=st.sampled_from(Kind),
        legal_basis=entries,
        conditions=entries,
        materials=st.lists(materials, max_size=3).map(tuple),
        procedure=entries,
        time_limit_days=days,
        statutory_limit_days=days,
        fees=_texts(),
        window=_texts(),
        accept_levels=st.frozensets(st.sampled_from(Level)),
        decide_level=st.sampled_from(Level),
        stage_limits=st.none() | st.builds(StageLimits, days, days, days),
        online=st.booleans(),
        consult_phone=_texts(),
    )


CATALOGS = st.lists(_items(), max_size=4).map(Catalog)


@settings(max_examples=200, deadline=None)
@given(CATALOGS)
def test_any_catalog_comes_back_from_yaml_unchanged(catalog: Catalog) -> None:
    assert load_yaml(dump_yaml(catalog)) == catalog


@settings(max_examples=200, deadline=None)
@given(CATALOGS)
def test_any_catalog_comes_back_from_csv_unchanged(catalog: Catalog) -> None:
    assert load_csv(dump_csv(catalog)) == catalog


@settings(max_examples=50, deadline=None)
@given(CATALOGS)
def test_yaml_and_csv_agree(catalog: Catalog) -> None:
    assert load_csv(dump_csv(load_yaml(dump_yaml(catalog)))) == catalog


# ------------------------------------------------------------------------------------ malformed YAML

SOUND_YAML = dump_yaml(Catalog([promised(), instant()]))


def yaml_error(text: str) -> CatalogFormatError:
    with pytest.raises(CatalogFormatError) as caught:
        load_yaml(text)
    return caught.value


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    return lines[occurrence - 1]


def test_yaml_that_does_not_parse_names_its_line_and_column() -> None:
    error = yaml_error("version: 1\nitems:\n  - code: [MZ-001\n    name: x\n")
    assert error.line is not None and error.line >= 3
    assert str(error).startswith(f"line {error.line}: not valid YAML")
    assert "column" in str(error)


def test_yaml_must_be_a_catalog_mapping_with_items() -> None:
    assert str(yaml_error("- just a list")) == "line 1: a catalog is a mapping with 'version' and 'items'"
    assert str(yaml_error("")) == "line 1: a catalog is a mapping with 'version' and 'items'"
    assert str(yaml_error("version: 1\n")) == "line 1: has no 'items'"
    assert str(yaml_error("version: 2\nitems: []\n")) == "line 1: version 2 is not one this program reads (it reads 1)"
    assert str(yaml_error("items: {}\n")) == "line 1: 'items' must be a list of items"
    unknown = yaml_error("items: []\ntitle: x\n")
    assert str(unknown) == "line 2: unknown key 'title'; a catalog has 'version' and 'items'"


def test_a_missing_field_names_the_item_and_the_field() -> None:
    text = SOUND_YAML.replace("  kind: instant\n", "")
    error = yaml_error(text)
    assert (error.item, error.field, error.reason) == ("2 (MZ-102)", "kind", "is missing")
    assert error.line == line_of(text, "- code: MZ-102")
    assert str(error) == f"line {error.line}, item 2 (MZ-102), field kind: is missing"


def test_several_missing_fields_are_named_together() -> None:
    text = SOUND_YAML.replace("  fees: 不收费\n", "").replace("  window: 街道便民服务中心社会救助窗口\n", "")
    assert yaml_error(text).reason == "is missing (also missing: window)"


def test_an_unknown_kind_points_at_its_line_and_lists_the_kinds() -> None:
    text = SOUND_YAML.replace("kind: promised", "kind: urgent")
    error = yaml_error(text)
    assert error.line == line_of(text, "kind: urgent")
    assert str(error) == (
        f"line {error.line}, item 1 (MZ-101), field kind: 'urgent' is not one of instant (即办), promised (承诺件), "
        "proxied (代办), filing (备案)"
    )


def test_kinds_and_levels_may_be_written_as_their_chinese_labels() -> None:
    text = SOUND_YAML.replace("kind: promised", "kind: 承诺件").replace("- community", "- 社区")
    assert load_yaml(text) == load_yaml(SOUND_YAML)


def test_days_must_be_whole_numbers() -> None:
    text = SOUND_YAML.replace("time_limit_days: 10", "time_limit_days: ten")
    error = yaml_error(text)
    assert (error.line, error.field) == (line_of(text, "time_limit_days: ten"), "time_limit_days")
    assert error.reason == "must be a whole number, not 'ten'"
    assert yaml_error(SOUND_YAML.replace("time_limit_days: 10", "time_limit_days: 2.5")).reason == (
        "must be a whole number, not the number 2.5"
    )
    assert yaml_error(SOUND_YAML.replace("time_limit_days: 10", "time_limit_days: yes")).reason == (
        "must be a whole number, not true (true/false)"
    )


def test_a_bad_material_is_named_by_its_place_in_the_list() -> None:
    text = SOUND_YAML.replace("    form: original\n", "", 1)
    error = yaml_error(text)
    assert (error.item, error.field, error.reason) == ("1 (MZ-101)", "materials[2].form", "is missing")
    copies = yaml_error(SOUND_YAML.replace("copies: 1", "copies: two", 1))
    assert (copies.field, copies.reason) == ("materials[1].copies", "must be a whole number, not 'two'")


def test_a_misspelt_field_is_refused_with_a_suggestion() -> None:
    text = SOUND_YAML.replace("time_limit_days: 10", "time_limt_days: 10")
    error = yaml_error(text)
    assert error.line == line_of(text, "time_limt_days")
    assert (error.field, error.reason) == ("time_limt_days", "is not a field; did you mean 'time_limit_days'?")


def test_a_field_written_twice_is_refused_rather_than_silently_overwritten() -> None:
    text = SOUND_YAML.replace("  fees: 不收费\n", "  fees: 不收费\n  fees: 十元\n", 1)
    error = yaml_error(text)
    assert str(error) == f"line {line_of(text, 'fees: 十元')}: 'fees' is written twice"


def test_a_phone_number_written_as_a_number_needs_quotes() -> None:
    error = yaml_error(SOUND_YAML.replace("consult_phone: '12345'", "consult_phone: 12345", 1))
    assert (error.field, error.reason) == (
        "consult_phone",
        "must be text, not the number 12345; put it in quotes to make it text",
    )


def test_lists_and_stage_limits_have_their_shapes() -> None:
    text = SOUND_YAML.replace("  legal_basis:\n  - 《社会救助暂行办法》\n", "  legal_basis: 《社会救助暂行办法》\n", 1)
    assert yaml_error(text).reason == "must be a list of texts, not '《社会救助暂行办法》'"
    missing_stage = yaml_error(SOUND_YAML.replace("    approve: 3\n", ""))
    assert (missing_stage.field, missing_stage.reason) == (
        "stage_limits",
        "needs all three stages; missing approve (审批)",
    )
    unknown_stage = yaml_error(SOUND_YAML.replace("    approve: 3\n", "    sign: 3\n"))
    assert unknown_stage.field == "stage_limits.sign"


# ------------------------------------------------------------------------------------ malformed CSV

SOUND_CSV = dump_csv(Catalog([promised(), instant()]))


def csv_error(text: str) -> CatalogFormatError:
    with pytest.raises(CatalogFormatError) as caught:
        load_csv(text)
    return caught.value


def test_csv_needs_a_header_with_exactly_the_columns() -> None:
    assert str(csv_error("")) == "the text is empty; a catalog starts with a header row naming its columns"
    header, rest = SOUND_CSV.split("\r\n", 1)
    wrong = header.replace("window", "counter").replace("fees,", "")
    error = csv_error(wrong + "\r\n" + rest)
    assert (error.row, error.line) == (1, 1)
    assert str(error).endswith("missing fees, window; unknown 'counter'")
    repeated = csv_error(header + ",code\r\n")
    assert str(repeated).endswith("repeated code")


def test_a_row_with_the_wrong_number_of_cells_is_named() -> None:
    lines = SOUND_CSV.splitlines()
    error = csv_error("\n".join([lines[0], lines[1], lines[2] + ",extra"]))
    assert str(error) == "row 3, line 3: has 19 cells; the header has 18 columns"


def test_a_bad_number_names_the_row_item_and_column() -> None:
    text = SOUND_CSV.replace(",10,10,", ",10,ten,", 1)
    assert str(csv_error(text)) == (
        "row 2, line 2, item MZ-101, field statutory_limit_days: must be a whole number, not 'ten'"
    )


def test_rows_are_counted_as_a_spreadsheet_counts_them_and_lines_as_an_editor_does() -> None:
    multiline = promised(conditions=("第一行\n第二行",), code="MZ-103")
    text = dump_csv(Catalog([multiline, instant()])).replace(",即办,", ",fast,")
    error = csv_error(text)
    assert (error.row, error.line, error.item, error.field) == (3, 4, "MZ-102", "kind")


def test_an_unknown_level_in_csv_lists_the_levels() -> None:
    error = csv_error(SOUND_CSV.replace(",街道;社区,", ",街道;乡镇,", 1))
    assert (error.field, error.reason) == (
        "accept_levels[2]",
        "'乡镇' is not one of district (区), street (街道), community (社区)",
    )


def test_a_material_needs_name_form_copies_and_whether_it_is_required() -> None:
    short = csv_error(SOUND_CSV.replace("居民身份证|原件及复印件|1|必需", "居民身份证|原件及复印件|1", 1))
    assert (short.field, short.reason) == (
        "materials[1]",
        "has 3 parts; a material is name|form|copies|required with an optional |note",
    )
    word = csv_error(SOUND_CSV.replace("临时救助申请书|原件|1|必需", "临时救助申请书|原件|1|也许", 1))
    assert (word.field, word.reason) == ("materials[2].required", "must be 必需 or 非必需, not '也许'")
    form = csv_error(SOUND_CSV.replace("临时救助申请书|原件|", "临时救助申请书|扫描件|", 1))
    assert form.field == "materials[2].form"


def test_stage_limits_and_online_have_their_shapes_in_csv() -> None:
    stages = csv_error(SOUND_CSV.replace("受理=1;", "受理:1;", 1))
    assert (stages.field, stages.reason) == ("stage_limits", "'受理:1' is not stage=days, e.g. 审核=5")
    twice = csv_error(SOUND_CSV.replace("受理=1;审核=6", "受理=1;受理=6", 1))
    assert (twice.field, twice.reason) == ("stage_limits.受理", "is given twice")
    online = csv_error(SOUND_CSV.replace(",是,", ",maybe,", 1))
    assert (online.field, online.reason) == ("online", "must be 是 or 否, not 'maybe'")


def test_a_lone_backslash_at_the_end_of_an_entry_is_refused() -> None:
    error = csv_error(SOUND_CSV.replace("基本生活暂时出现严重困难", "困难\\", 1))
    assert (error.field, error.reason) == ("conditions", "ends with a lone backslash; write \\\\ for a backslash")
