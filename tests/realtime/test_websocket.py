"""The websocket endpoint: topics checked per role and hall, bad frames answered, connection kept."""

from __future__ import annotations

import json
from typing import Any

from tests.site import Site


def _until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(50):
        frame = json.loads(ws.receive_text())
        if frame["type"] == kind:
            return frame  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind} frame")


def test_anyone_follows_the_public_queue_and_gets_live_counter_changes(site: Site) -> None:
    hall = site.halls["xh"]
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{hall}/queue"})
        snapshot = _until(ws, "snapshot")
        assert [c["number"] for c in snapshot["data"]["counters"]] == list(range(1, 13))
        subscribed = _until(ws, "subscribed")
        assert subscribed["mode"] == "snapshot"
        token = site.login("clerk")
        done = site.post(f"/api/v1/halls/{hall}/counters/7/open", token)
        assert done.status_code == 200, done.text
        event = _until(ws, "event")
    assert event["seq"] == subscribed["seq"] + 1 == done.json()["seq"]
    assert event["event"]["type"] == "counter.opened"
    assert event["event"]["data"] == {"counter": 7}


def test_bad_frames_get_an_error_and_the_connection_stays_usable(site: Site) -> None:
    with site.client.websocket_connect("/ws") as ws:
        cases: list[tuple[Any, str]] = [
            ("{not json", "bad_json"),
            ("[1, 2]", "bad_message"),
            (json.dumps({"type": "dance"}), "unknown_type"),
            (json.dumps({"type": "subscribe", "topic": "hall/x/queue"}), "bad_topic"),
            (json.dumps({"type": "subscribe", "topic": "hall/1/nothing"}), "bad_topic"),
            (json.dumps({"type": "subscribe", "topic": "hall/1/counter"}), "bad_topic"),
            (json.dumps({"type": "subscribe", "topic": "hall/1/queue", "since": -1}), "bad_since"),
            (json.dumps({"type": "subscribe", "topic": "hall/1/queue", "since": True}), "bad_since"),
            (json.dumps({"type": "subscribe", "topic": "hall/999/queue"}), "unknown_hall"),
            ("x" * 5000, "too_large"),
            ("[" * 2000 + "]" * 2000, "bad_json"),  # deeper than the parser goes: no RecursionError
            ('{"type": "ping", "id": "\\ud800"}', "bad_json"),  # a lone surrogate is no text
        ]
        for text, code in cases:
            ws.send_text(text)
            frame = json.loads(ws.receive_text())
            assert (frame["type"], frame["code"]) == ("error", code), text[:40]
        ws.send_bytes(b"\x00\x01")
        assert json.loads(ws.receive_text())["code"] == "bad_frame"
        ws.send_json({"type": "ping", "id": "still-there"})
        assert json.loads(ws.receive_text()) == {"type": "pong", "id": "still-there"}


def test_staff_topics_are_refused_to_anonymous_clients(site: Site) -> None:
    hall = site.halls["xh"]
    with site.client.websocket_connect("/ws") as ws:
        for topic in (f"hall/{hall}/wallboard", f"hall/{hall}/counter/1", f"hall/{hall}/devices"):
            ws.send_json({"type": "subscribe", "topic": topic})
            frame = json.loads(ws.receive_text())
            assert (frame["code"], frame["topic"]) == ("forbidden", topic)
            # In the visitor's language, with no role codes in it (Chinese by default).
            assert frame["message"] == "此账号无权接收这些实时更新。"


def test_each_role_follows_only_its_topics(site: Site) -> None:
    hall = site.halls["xh"]
    allowed = {
        "clerk": {"queue", "counter/1"},
        "supervisor": {"queue", "counter/1", "wallboard"},
        "technician": {"queue", "devices"},
        "admin": {"queue", "counter/1", "wallboard", "devices"},
    }
    for role, topics in allowed.items():
        site.login(role)
        with site.client.websocket_connect("/ws") as ws:
            for kind in ("queue", "counter/1", "wallboard", "devices"):
                ws.send_json({"type": "subscribe", "topic": f"hall/{hall}/{kind}"})
                frame = _until(ws, "subscribed") if kind in topics else json.loads(ws.receive_text())
                if kind not in topics:
                    assert frame["code"] == "forbidden", (role, kind)


def test_staff_see_their_hall_and_the_halls_below_it_only(site: Site) -> None:
    site.login("community-clerk")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{site.halls['xh']}/counter/1"})
        assert json.loads(ws.receive_text())["code"] == "forbidden"
        ws.send_json({"type": "subscribe", "topic": f"hall/{site.halls['xh-hp-ly']}/counter/1"})
        assert _until(ws, "subscribed")["mode"] == "snapshot"
    site.login("supervisor")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{site.halls['xh-hp-ly']}/wallboard"})
        assert _until(ws, "subscribed")["mode"] == "snapshot"


def test_a_cross_site_websocket_does_not_ride_on_the_staff_cookie(site: Site) -> None:
    site.login("admin")
    headers = {"origin": "http://evil.example"}
    with site.client.websocket_connect("/ws", headers=headers) as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{site.halls['xh']}/wallboard"})
        assert json.loads(ws.receive_text())["code"] == "forbidden"


def test_without_the_servers_wire_frames_go_through_asgi_send_in_order(site: Site) -> None:
    """Starlette's test client lends no transport (no ``hall.websocket.wire``): the fallback path."""
    hall = site.halls["xh"]
    site.login("admin")
    with site.client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "topic": f"hall/{hall}/queue"})
        subscribed = _until(ws, "subscribed")
        assert site.client.get("/api/v1/hub").json()["send_paths"] == {"asgi": 1}
        token = site.login("clerk")
        actions = ("open", "close", "open")
        fired = [site.post(f"/api/v1/halls/{hall}/counters/2/{action}", token).json()["seq"] for action in actions]
        seqs = [_until(ws, "event")["seq"] for _ in fired]
    assert seqs == fired == [subscribed["seq"] + 1, subscribed["seq"] + 2, subscribed["seq"] + 3]
