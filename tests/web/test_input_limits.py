"""Input that cannot be stored is refused at the door, with a clear code, and changes nothing:
ids beyond 64 bits in paths and queries, text that is not valid Unicode, JSON nested too deep."""

from __future__ import annotations

import pytest

from tests.site import Site

HUGE = "9" * 30


def _events(site: Site) -> int:
    site.login("supervisor")
    return len(site.client.get("/api/v1/halls/1/events?limit=1000").json())


@pytest.mark.parametrize(
    "path",
    [
        f"/t/{HUGE}/20261203-A001",
        f"/display/{HUGE}",
        f"/kiosk/{HUGE}",
        f"/api/v1/halls/{HUGE}/queue",
        f"/api/v1/halls/1/counters/{HUGE}",
        f"/api/v1/halls/{HUGE}/tickets/20261203-A001",
    ],
)
def test_an_id_beyond_64_bits_in_a_path_is_not_found(site: Site, path: str) -> None:
    answer = site.client.get(path)
    assert answer.status_code == 404, answer.text


def test_an_anonymous_ticket_for_a_hall_beyond_64_bits_is_not_found(site: Site) -> None:
    answer = site.client.post(f"/api/v1/halls/{HUGE}/tickets", json={"service": "soc"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    [f"since={HUGE}", "since=-1", "limit=0", "since=x"],
)
def test_the_event_log_refuses_numbers_it_cannot_look_up(site: Site, query: str) -> None:
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/1/events?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid"


@pytest.mark.parametrize(
    ("query", "field"),
    [(f"offset={HUGE}", "offset"), (f"staff={HUGE}", "staff"), ("staff=²", "staff"), (f"within={HUGE}", "within")],
)
def test_the_case_query_refuses_numbers_beyond_64_bits(site: Site, query: str, field: str) -> None:
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/1/cases/query?{query}")
    assert answer.status_code == 422, answer.text
    assert (answer.json()["code"], answer.json()["field"]) == ("invalid", field)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"reason": "\\ud800"}', "bad_text"),  # a lone surrogate: parses, but is no text
        (b'{"\\udfff": "x"}', "bad_text"),
        (b'{"reason": "x", "n": 99999999999999999999}', "bad_number"),
        (b'{"reason": "x", "n": NaN}', "bad_number"),
        (b"[" * 2000 + b"]" * 2000, "bad_json"),  # deeper than the parser goes: no RecursionError
        (b'{"reason": "x", "deep": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}", "too_deep"),  # 41 levels, 32 allowed
    ],
)
def test_json_that_cannot_be_stored_is_refused_and_changes_nothing(site: Site, body: bytes, code: str) -> None:
    before = _events(site)
    token = site.login("clerk")
    opened = site.post("/api/v1/halls/1/counters/3/open", token)
    assert opened.status_code == 200, opened.text
    after_open = _events(site)
    token = site.login("clerk")
    answer = site.client.post(
        "/api/v1/halls/1/counters/3/pause",
        content=body,
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert (answer.json()["code"], answer.json()["error"]) == (code, code)
    assert after_open == before + 1
    assert _events(site) == after_open


def test_a_body_beyond_any_limit_is_refused_before_it_is_read(site: Site) -> None:
    answer = site.client.post(
        "/api/v1/halls/1/tickets", content=b"x" * (12 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large"


def test_the_id_number_check_reads_no_more_than_a_command_does(site: Site) -> None:
    token = site.login("clerk")
    too_big = site.client.post(
        "/api/v1/id-numbers/check",
        content=b'{"id_number": "' + b"1" * 20000 + b'"}',
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert too_big.status_code == 413
    deep = site.client.post(
        "/api/v1/id-numbers/check",
        content=b"[" * 5000 + b"]" * 5000,
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert (deep.status_code, deep.json()["code"]) == (400, "bad_json")
