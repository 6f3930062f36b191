"""The JSON API: commands with ids, clear errors, and an OpenAPI document from the routes."""

from __future__ import annotations

from tests.site import Site


def test_a_clerk_opens_and_pauses_a_counter_through_the_api(site: Site) -> None:
    token = site.login("clerk")
    opened = site.post("/api/v1/halls/1/counters/2/open", token, {"command_id": "console-0001"})
    assert opened.status_code == 200
    assert opened.json()["counter"]["status"] == "open"
    paused = site.post("/api/v1/halls/1/counters/2/pause", token, {"reason": "午休"})
    assert paused.json()["counter"] == {
        "number": 2,
        "name": "2号窗口",
        "status": "paused",
        "clerk": opened.json()["counter"]["clerk"],
        "pause_reason": "午休",
        # In use, and in no department (the sample hall names none).
        "active": True,
        "department": None,
    }


def test_a_repeated_command_id_answers_the_first_result(site: Site) -> None:
    token = site.login("clerk")
    first = site.post("/api/v1/halls/1/counters/4/open", token, {"command_id": "double-press-1"})
    again = site.post("/api/v1/halls/1/counters/4/open", token, {"command_id": "double-press-1"})
    assert first.status_code == again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["counter"] == first.json()["counter"]


def test_someone_elses_command_id_is_a_command_of_ones_own_not_a_look_at_their_result(site: Site) -> None:
    token = site.login("clerk")
    opened = site.post("/api/v1/halls/1/counters/8/open", token, {"command_id": "the-clerks-own-1"})
    assert opened.status_code == 200 and opened.json()["duplicate"] is False
    # The same id from an anonymous kiosk, for another command: it is that command, answered anew.
    site.anonymous()
    taken = site.client.post("/api/v1/halls/1/tickets", json={"command_id": "the-clerks-own-1", "service": "soc"})
    body = taken.json()
    assert body.get("duplicate") is not True
    assert body != opened.json() and body.get("counter") != 8
    # And the same id from another clerk for the same command is theirs too.
    token = site.login("supervisor")
    other = site.post("/api/v1/halls/1/counters/9/open", token, {"command_id": "the-clerks-own-1"})
    assert other.json().get("duplicate") is not True


def test_bad_requests_get_clear_errors_and_change_nothing(site: Site) -> None:
    events_before = _event_count(site)
    token = site.login("clerk")
    bad = {
        "/api/v1/halls/1/counters/1/pause": ({"reason": "x"}, 409, "bad_transition"),
        "/api/v1/halls/1/counters/99/open": ({}, 404, "not_found"),
        "/api/v1/halls/1/counters/1/dance": ({}, 404, "not_found"),
    }
    for path, (body, status, code) in bad.items():
        answer = site.post(path, token, body)
        assert (answer.status_code, answer.json()["error"]) == (status, code), path
        assert answer.json()["message"]
    not_json = site.client.post(
        "/api/v1/halls/1/counters/1/open",
        content=b"{nope",
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert not_json.status_code == 400
    too_big = site.client.post(
        "/api/v1/halls/1/counters/1/open",
        content=b'{"a":"' + b"x" * 20000 + b'"}',
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    assert too_big.status_code == 413
    short_id = site.post("/api/v1/halls/1/counters/1/open", token, {"command_id": "x"})
    assert short_id.status_code == 422
    reason = site.post("/api/v1/halls/1/counters/1/pause", token, {"reason": 5})
    assert reason.status_code == 422
    assert _event_count(site) == events_before


def _event_count(site: Site) -> int:
    token = site.login("supervisor")
    assert token
    return len(site.client.get("/api/v1/halls/1/events?limit=1000").json())


def test_the_event_log_reads_in_order_from_a_sequence(site: Site) -> None:
    token = site.login("clerk")
    site.post("/api/v1/halls/1/counters/5/open", token)
    site.post("/api/v1/halls/1/counters/5/close", token)
    site.login("supervisor")
    log = site.client.get("/api/v1/halls/1/events?limit=1000").json()
    seqs = [e["seq"] for e in log]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [e["type"] for e in log[-2:]] == ["counter.opened", "counter.closed"]
    tail = site.client.get(f"/api/v1/halls/1/events?since={seqs[-2]}").json()
    assert [e["seq"] for e in tail] == [seqs[-1]]
    assert site.client.get("/api/v1/halls/1/events?since=-1").status_code == 422
    assert site.client.get("/api/v1/halls/1/events?limit=abc").status_code == 422


def test_the_openapi_document_lists_the_api(site: Site) -> None:
    document = site.client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/halls/{hall}/counters/{number}/{action}" in document["paths"]
    assert "/api/v1/halls" in document["paths"]


def test_the_public_list_of_halls_shows_the_tree(site: Site) -> None:
    site.anonymous()
    listed = site.client.get("/api/v1/halls").json()
    by_code = {h["code"]: h for h in listed}
    assert by_code["xh-hp"]["parent"] == by_code["xh"]["id"]
    assert by_code["xh-hp-ly"]["level"] == "community"
