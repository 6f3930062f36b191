"""Text that was stored always renders: a lone UTF-16 surrogate kept from before input was
checked (it survives a JSON column as ``\\ud800``) must not turn a page or an answer into a 500."""

from __future__ import annotations

import json

from markupsafe import Markup
from sqlalchemy import create_engine, select, update

from hall.kernel import jsontext
from hall.runtime import TEMPLATE_DIRS
from hall.storage.case_tables import cases
from hall.web.render import make_templates
from hall.web.responses import JSONResponse
from tests.site import Site

BROKEN = "王\ud800英"


def test_an_answer_with_a_lone_surrogate_escapes_it_and_keeps_the_rest_as_characters() -> None:
    body = JSONResponse({"name": BROKEN, "hall": "新华区"}).body
    assert json.loads(body) == {"name": BROKEN, "hall": "新华区"}
    assert JSONResponse({"hall": "新华区"}).body == '{"hall":"新华区"}'.encode()


def test_a_page_prints_a_lone_surrogate_as_the_replacement_character() -> None:
    env = make_templates(TEMPLATE_DIRS).env
    page = env.from_string("<p>{{ name }}</p><p>{{ marked }}</p>").render(name=BROKEN, marked=Markup("<b>\ud800</b>"))
    assert page == "<p>王\ufffd英</p><p><b>\ufffd</b></p>"
    assert jsontext.valid_text(page)


def test_a_case_whose_stored_record_holds_a_lone_surrogate_still_opens(site: Site) -> None:
    hall = site.halls["xh-hp-ly"]
    token = site.login("community-clerk")
    accepted = site.post(
        f"/api/v1/halls/{hall}/cases",
        token,
        {
            "item": "MZ-006",
            "applicant": {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"},
            "materials": ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"],
            "counter": 1,
        },
    )
    assert accepted.status_code == 200, accepted.text
    number = accepted.json()["case"]["number"]
    url = str(site.client.app.state.hall.settings.db_url).replace("+aiosqlite", "")  # type: ignore[attr-defined]
    engine = create_engine(url)
    with engine.begin() as conn:
        record = conn.execute(select(cases.c.record).where(cases.c.number == number)).scalar_one()
        record["applicant"]["name"] = BROKEN
        conn.execute(update(cases).where(cases.c.number == number).values(record=record))
    engine.dispose()

    detail = site.client.get(f"/api/v1/halls/{hall}/cases/{number}")
    assert detail.status_code == 200, detail.text
    page = site.client.get(f"/cases/{hall}/{number}")
    assert page.status_code == 200
    assert "王\ufffd英" in page.text
