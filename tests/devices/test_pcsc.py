"""PC/SC ID card readers (devices/pcsc.py): the read by the hall's card layout with no reader at all,
then through a real pcscd with vsmartcard's virtual reader and a card of ours on it
(tests/pcsc_card.py), the way a clerk's desk reader works: the card reaches the counter's intake
form, masked; a card with a bad check digit is refused in words and nothing is held; a card pulled
out mid-read changes nothing, and the reader reads the next card.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from devices import idcard_apdu
from devices.idcard_data import encode
from devices.pcsc import PcscFailure, PcscReaders, _Slot, binding_for, card_changes, read_with
from hall.kernel.errors import SettingsError
from hall.kernel.idnumbers import InvalidIdNumber
from hall.kernel.masking import mask_id
from hall.runtime import Runtime
from hall.settings import from_env
from hall.web.app import create_app
from tests.devices.test_idcard_data import CARD, NUMBER, YOUNGER
from tests.memory_broker import MemoryBroker
from tests.pcsc_card import OTHER_READER, READER, Pcscd, VirtualCard, pcscd  # noqa: F401
from tests.site import Site, make_site
from tests.timing import MS

DEVICE = "xh-c2-idr"
CARD_URL = "/api/v1/halls/1/counters/2/card"


def _bad_check_digit() -> bytes:
    wrong = NUMBER[:-1] + "0"
    return encode(CARD).replace(NUMBER.encode("utf-16-le"), wrong.encode("utf-16-le"))


# -- the read, with the card applet answering directly ----------------------------------------


def test_a_card_is_read_by_select_and_read_binary_in_chunks() -> None:
    applet = idcard_apdu.CardApplet(encode(CARD))
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> bytes:
        sent.append(apdu)
        return applet.respond(apdu)

    assert read_with(transmit) == CARD
    assert [a.hex(" ") for a in sent] == [
        "00 a4 04 0c 08 f0 48 41 4c 4c 49 44 01",
        "00 b0 00 00 80",
        "00 b0 00 80 80",
    ]


def test_a_card_that_stops_answering_or_is_not_of_the_layout_is_refused_with_a_reason() -> None:
    with pytest.raises(PcscFailure) as vanished:
        read_with(lambda apdu: b"")
    assert vanished.value.reason == "card_removed"
    with pytest.raises(PcscFailure) as other:
        read_with(lambda apdu: idcard_apdu.Response(b"", idcard_apdu.Sw.NOT_FOUND).to_bytes())
    assert (other.value.reason, other.value.detail) == ("card_refused", "status word 6A82")
    with pytest.raises(InvalidIdNumber):
        read_with(idcard_apdu.CardApplet(_bad_check_digit()).respond)


def test_a_card_put_on_is_seen_once_and_again_after_a_swap_between_two_looks() -> None:
    slot = _Slot()
    assert not card_changes(slot, 0x0010)  # empty
    assert card_changes(slot, 0x1_0020)  # put on
    assert not card_changes(slot, 0x1_0020)  # still there
    assert card_changes(slot, 0x3_0020)  # taken off and another put on: two events later
    assert not card_changes(slot, 0x4_0010)
    assert not card_changes(slot, 0x5_0220)  # there but mute: nothing to read


def test_readers_are_bound_by_part_of_their_name_in_the_settings() -> None:
    settings = from_env({"HALL_PCSC_READERS": f"{DEVICE}=Virtual PCD 00 00, xh-kiosk-idr = 00 01 ,"})
    assert settings.pcsc_readers == ((DEVICE, "Virtual PCD 00 00"), ("xh-kiosk-idr", "00 01"))
    assert binding_for(READER, settings.pcsc_readers) == DEVICE
    assert binding_for(OTHER_READER, settings.pcsc_readers) == "xh-kiosk-idr"
    assert binding_for("ACS ACR122U 00 00", settings.pcsc_readers) is None
    assert from_env({}).pcsc_readers == ()
    for bad in ("xh-c2-idr", "=Virtual", "xh-c2-idr=", "a=1,a=2"):
        with pytest.raises(SettingsError, match="HALL_PCSC_READERS"):
            from_env({"HALL_PCSC_READERS": bad})


class _Heard:
    """A gateway stand-in that notes what a reader's presence told it."""

    def __init__(self) -> None:
        self.presence: list[tuple[str, bool]] = []
        self.heard: list[str] = []

    async def wired_presence(self, device: str, online: bool, firmware: str = "") -> None:
        self.presence.append((device, online))

    def wired_telemetry(self, device: str, values: object) -> None:
        self.heard.append(device)


async def test_a_bound_reader_plugged_in_is_online_and_unplugged_offline() -> None:
    heard = _Heard()
    readers = PcscReaders(heard, ((DEVICE, READER), ("xh-kiosk-idr", OTHER_READER)))  # type: ignore[arg-type]
    readers._present(frozenset({READER}))
    readers._present(frozenset({READER}))  # told again every second: no new event
    readers._present(frozenset())
    await asyncio.sleep(0)
    assert heard.presence == [(DEVICE, True), ("xh-kiosk-idr", False), (DEVICE, False)]
    assert heard.heard == [DEVICE, DEVICE]  # a reader that is here keeps its device heard from


# -- through pcscd and vpcd ----------------------------------------------------------------------


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10_000 * MS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


class Desk:
    """The test site with a counter-2 clerk, a registered PC/SC reader at counter 2, and what the
    server made of each card put on it."""

    def __init__(self, site: Site, runtime: Runtime, daemon: Pcscd) -> None:
        self.site = site
        self.runtime = runtime
        self.daemon = daemon
        self.outcomes: list[str] = []

    def put(self, text: bytes, **card: int) -> VirtualCard:
        """Put a card on the reader and wait until the server has read it (or refused it)."""
        before = len(self.outcomes)
        inserted = VirtualCard(self.daemon.port, text, **card).insert()
        _until(lambda: len(self.outcomes) > before, f"the server reads the card; pcscd says:\n{self.daemon.log()}")
        return inserted

    @property
    def rejected(self) -> dict[str, int]:
        assert self.runtime.devices is not None
        return dict(self.runtime.devices.gateway.stats.rejected.get(DEVICE, {}))


@pytest.fixture
def desk(tmp_path: Path, pcscd: Pcscd) -> Iterator[Desk]:  # noqa: F811
    config, _ids, _users = make_site(tmp_path)
    config = replace(config, pcsc_readers=((DEVICE, READER),))
    broker = MemoryBroker()
    runtime = Runtime.build(config, connect=broker.connector())
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        site = Site(client, _ids, _users)
        made = Desk(site, runtime, pcscd)
        assert runtime.devices is not None and runtime.devices.pcsc is not None
        runtime.devices.pcsc.on_card = lambda device, outcome: made.outcomes.append(outcome)
        token = site.login("technician")
        registered = site.post("/api/v1/halls/1/devices", token, {"device": DEVICE, "kind": "id_reader", "counter": 2})
        assert registered.status_code == 201, registered.text
        _until(
            lambda: runtime.devices is not None and runtime.devices.gateway.known.device(DEVICE) is not None, "known"
        )
        token = site.login("clerk")
        assert site.post("/api/v1/halls/1/counters/2/open", token).status_code == 200
        _until(lambda: READER in runtime.devices.pcsc.stats.readers, "the watcher sees vpcd's reader")  # type: ignore[union-attr]
        yield made


def test_a_card_on_the_counters_pcsc_reader_reaches_its_intake_form_masked(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="devices.pcsc")
    site = desk.site
    assert site.client.get(CARD_URL).status_code == 404
    card = desk.put(encode(YOUNGER))
    try:
        assert desk.outcomes == ["read"]
        shown = site.client.get(CARD_URL)
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert (body["name"], body["id_number"], body["masked"]) == ("王秀英", mask_id(YOUNGER.id_number), True)
        assert YOUNGER.id_number not in shown.text
        assert shown.headers["cache-control"] == "no-store"
        said = [r.getMessage() for r in caplog.records if r.name == "devices.pcsc" and "read at" in r.getMessage()]
        assert said == [f"card 王**, {mask_id(YOUNGER.id_number)} read at {DEVICE} for counter 2"]
        assert YOUNGER.id_number not in caplog.text
        taken = site.client.get(f"{CARD_URL}?take=1").json()
        assert (taken["id_number"], taken["sex"], taken["birth"]) == (YOUNGER.id_number, "女", "1990-03-07")
        assert site.client.get(CARD_URL).status_code == 404  # handed over once
        # The APDUs the card got were those of the layout: SELECT, two READ BINARY.
        assert [a[:2].hex() for a in card.apdus] == ["00a4", "00b0", "00b0"]
        # The technician's console lists the machine's reader with the device it is bound to.
        site.login("technician")
        pcsc = site.client.get("/api/v1/halls/1/serial").json()["pcsc"]
        assert [r["device"] for r in pcsc["readers"] if READER in r["name"]] == [DEVICE]
        assert pcsc["cards_read"] == 1 and pcsc["trouble"] == ""
    finally:
        card.remove()


def test_a_card_with_a_bad_check_digit_is_refused_in_words_and_nothing_is_held(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    card = desk.put(_bad_check_digit())
    try:
        assert desk.outcomes == ["invalid_id_number"]
        assert desk.rejected == {"invalid_id_number": 1}
        assert desk.site.client.get(CARD_URL).status_code == 404
        said = [r.getMessage() for r in caplog.records if DEVICE in r.getMessage()]
        assert said == [f"device {DEVICE}: invalid_id_number (not a valid ID number: its check digit does not match)"]
        assert NUMBER[:-1] not in caplog.text and "王秀英" not in caplog.text
    finally:
        card.remove()


def test_a_card_pulled_out_mid_read_changes_nothing_and_the_next_card_is_read(desk: Desk) -> None:
    # The card answers SELECT and vanishes at the first READ BINARY, unanswered.
    pulled = desk.put(encode(CARD), vanish_after=2)
    pulled.remove()
    assert desk.outcomes == ["card_removed"]
    assert desk.rejected == {"card_removed": 1}
    assert desk.site.client.get(CARD_URL).status_code == 404

    card = desk.put(encode(CARD))
    try:
        assert desk.outcomes == ["card_removed", "read"]
        shown = desk.site.client.get(CARD_URL).json()
        assert (shown["name"], shown["id_number"]) == ("王秀英", "110***********002X")
    finally:
        card.remove()
