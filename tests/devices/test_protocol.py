"""The device protocol's parsers: the only door from the bus into the server. Whatever bytes
arrive, they return a typed message or raise BadMessage; nothing else escapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.kinds import command_for
from devices.protocol import (
    MAX_PAYLOAD,
    Ack,
    BadMessage,
    DeviceEvent,
    State,
    Telemetry,
    encode,
    parse,
    parse_topic,
)
from devices.registry import Device, Kind, Status
from queueing.state import QueueState

CHANNELS = ("state", "tele", "evt", "ack")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
near_valid = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1, 1, 2, "1", True, None])},
    optional={
        "id": st.text(max_size=60) | st.integers(),
        "type": st.text(max_size=40) | st.none(),
        "data": json_values,
        "status": st.sampled_from(["online", "offline", "on", ""]) | json_values,
        "ok": json_values,
        "result": json_values,
        "paper": st.sampled_from(["ok", "near_end", "out", "gone"]) | json_values,
        "temperature": json_values,
        "firmware": json_values,
    },
)


def _parsed_or_refused(channel: str, payload: bytes) -> None:
    try:
        message = parse(channel, payload)
    except BadMessage as exc:
        refused = exc
    else:
        assert isinstance(message, State | Telemetry | DeviceEvent | Ack)
        return
    assert refused.reason


@settings(max_examples=300)
@given(channel=st.sampled_from(CHANNELS), payload=st.binary(max_size=512))
def test_random_bytes_are_parsed_or_refused_never_crash(channel: str, payload: bytes) -> None:
    _parsed_or_refused(channel, payload)


@settings(max_examples=500)
@given(channel=st.sampled_from(CHANNELS), body=near_valid)
def test_almost_valid_messages_are_parsed_or_refused_never_crash(channel: str, body: dict[str, object]) -> None:
    _parsed_or_refused(channel, json.dumps(body, allow_nan=True).encode())


@settings(max_examples=300)
@given(name=st.text(max_size=80))
def test_any_topic_name_is_parsed_or_refused(name: str) -> None:
    try:
        address = parse_topic(name)
    except BadMessage:
        return
    assert address.topic == name


def test_a_deeply_nested_payload_is_refused_not_a_crash() -> None:
    with pytest.raises(BadMessage):
        parse("evt", b"[" * 5000 + b"]" * 5000)


def test_payloads_over_the_limit_are_refused_before_parsing() -> None:
    with pytest.raises(BadMessage) as refused:
        parse("tele", b" " * (MAX_PAYLOAD + 1))
    assert refused.value.reason == "too_large"


def test_only_schema_version_1_is_accepted() -> None:
    assert isinstance(parse("state", encode({"status": "online"})), State)
    for version in (0, 2, "1", True, None):
        with pytest.raises(BadMessage) as refused:
            parse("state", json.dumps({"v": version, "status": "online"}).encode())
        assert refused.value.reason == "bad_version"


def test_telemetry_numbers_must_be_finite() -> None:
    with pytest.raises(BadMessage):
        parse("tele", b'{"v": 1, "temperature": NaN}')
    assert parse("tele", b'{"v": 1, "temperature": 41}') == Telemetry({"temperature": 41.0})


def test_topics_name_a_hall_a_device_and_a_device_channel() -> None:
    address = parse_topic("hall/xh/dev/xh-kiosk-1/evt")
    assert (address.hall, address.device, address.channel) == ("xh", "xh-kiosk-1", "evt")
    for bad in ("hall/xh/dev/xh-kiosk-1/cmd", "hall/xh/dev/Kiosk/evt", "hall/xh/xh-kiosk-1/evt", "hall//dev/a1/evt"):
        with pytest.raises(BadMessage):
            parse_topic(bad)


@settings(max_examples=300)
@given(
    kind=st.sampled_from(list(Kind)),
    event_type=st.sampled_from(["press", "call", "finish", "rate", "card", "pause", "nope"]),
    data=st.dictionaries(st.sampled_from(["service", "priority", "card", "level", "name", "id_number"]), json_values),
)
def test_any_event_data_becomes_a_command_or_a_refusal(kind: Kind, event_type: str, data: dict[str, object]) -> None:
    device = Device("dev-1", kind, Status.ACTIVE, counter=1 if kind.at_counter else None)
    try:
        wanted = command_for(device, QueueState(), DeviceEvent("event-0001", event_type, data))
    except BadMessage as exc:
        refused = exc
    else:
        assert wanted is None or wanted.name
        return
    assert refused.reason
