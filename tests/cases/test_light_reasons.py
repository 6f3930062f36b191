"""What a light is for, wherever it is shown: a case whose 审核 stage ran over its own limit while
its promised deadline is still ahead is red for the stage (环节超时), with the stage's due time,
on the case record, in the lists and on the supervision board, and red cases come first."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hall.web.app import create_app
from tests.cases.late_stage import accept_late_case
from tests.helpers import csrf_of
from tests.site import Site, make_site
from tests.timing import MS


@pytest.fixture
def late(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    config, ids, users = make_site(tmp_path)
    number = asyncio.run(accept_late_case(config.db_url, users["community-clerk"]))
    client = TestClient(create_app(config), follow_redirects=False)
    with client:
        # The stored light is turned by the server's case clock, which starts beside the requests:
        # wait for its first tick rather than race it.
        path = config.db_url.split("///", 1)[1]
        deadline = time.monotonic() + 10_000 * MS
        while time.monotonic() < deadline:
            with sqlite3.connect(path) as db:
                lights = {row[0] for row in db.execute("SELECT light FROM cases WHERE number = ?", (number,))}
            if lights == {"red"}:
                break
            time.sleep(0.05)
        yield Site(client, ids, users), number


def test_the_case_record_says_the_stage_is_over_its_limit_and_when_it_was_due(late: tuple[Site, str]) -> None:
    site, number = late
    district = site.halls["xh"]
    site.login("supervisor")
    page = site.client.get(f"/cases/{district}/{number}").text
    assert "红灯 · 审核环节超时" in page
    assert "审核环节期限" in page
    assert "红灯 · 已超期" not in page and "办件已超期" not in page
    english = site.client.get(f"/cases/{district}/{number}?lang=en").text
    assert "Red · Review stage over its limit" in english and "Review stage due" in english


def test_the_lists_and_the_board_carry_what_the_light_is_for(late: tuple[Site, str]) -> None:
    site, number = late
    district = site.halls["xh"]
    site.login("supervisor")
    listed = site.client.get(f"/api/v1/halls/{district}/cases?view=open").json()["cases"]
    board = site.client.get(f"/api/v1/halls/{district}/supervision").json()["cases"]
    for rows in (listed, board):
        (case,) = [c for c in rows if c["number"] == number]
        assert (case["light_now"], case["light_for"], case["light_stage"]) == ("red", "stage", "review")
        assert case["light_due"] == case["stage_due_at"]
        assert datetime.fromisoformat(case["light_due"]) < datetime.fromisoformat(case["due_at"])
    # The deciding office's to-do list says the same.
    site.login("clerk")
    todo = site.client.get(f"/api/v1/halls/{district}/cases?view=todo").json()["cases"]
    assert [(c["number"], c["light_for"]) for c in todo] == [(number, "stage")]


def test_the_public_tracking_page_shows_the_promise_not_the_halls_own_stage_limit(late: tuple[Site, str]) -> None:
    """The applicant was promised the case's deadline: a stage over its own limit is the hall's
    business, and the case is not "past the promised date" while that date is ahead."""
    site, number = late
    site.anonymous()
    token = csrf_of(site.client.get("/login").text)
    found = site.post("/api/v1/track", token, {"case": number, "phone_tail": "8000"})
    assert found.status_code == 200, found.text
    assert found.json()["light"]["value"] == "green"


def test_the_ledger_query_and_its_export_name_the_stage_a_light_is_for(late: tuple[Site, str]) -> None:
    site, number = late
    district = site.halls["xh"]
    site.login("supervisor")
    since = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    query = f"/api/v1/halls/{district}/cases/query?light=red&from={since}"
    # The stored light is turned by the server's case clock, which runs beside the requests from
    # the start: wait for its first tick rather than race it.
    deadline = time.monotonic() + 10_000 * MS
    while True:
        found = site.client.get(query).json()
        lines = [c for c in found["cases"] if c["number"] == number]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    (line,) = lines
    assert (line["light"], line["light_stage"], line["overdue"]) == ("red", "review", False)
    assert "审核环节超时" in str(line["light_label"])
    exported = site.client.get(f"{query}&format=csv")
    assert "审核环节超时" in exported.content.decode("utf-8-sig")
