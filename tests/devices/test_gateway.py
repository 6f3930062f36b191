"""The server's device gateway, spoken to as devices on an in-process bus: what each kind of
device may do, what it is told back, and how bad input is refused without changing anything."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from devices.gateway_names import print_command_id
from devices.protocol import MAX_PAYLOAD, encode
from hall.kernel.events import Command
from hall.storage.database import reading
from hall.storage.device_tables import device_commands, devices
from hall.storage.queue_tables import ratings, tickets
from hall.storage.tables import events
from tests.devicehall import DeviceHall, FakeDevice, device_hall, fake_device
from tests.memory_broker import MemoryBroker

pytestmark = pytest.mark.asyncio
VALID_ID = "11010519491231002X"


@pytest.fixture
def broker() -> MemoryBroker:
    return MemoryBroker()


async def _tickets(hall: DeviceHall) -> int:
    async with reading(hall.runtime.engine) as conn:
        return len((await conn.execute(select(tickets.c.id))).all())


async def test_a_kiosk_press_issues_one_ticket_answers_with_it_and_prints_it(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        async with fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk:
            event = await kiosk.event("press", {"service": "soc"})
            reply = await kiosk.reply(event)
            # The print went to the broker before the reply: a server that dies after replying has
            # handed it over, and one that dies before leaves the press to be resent.
            assert [c["name"] for c in kiosk.received["cmd"]] == ["print"]
            assert reply["ok"] is True
            assert reply["result"]["number"] == "A001"
            assert "applicant" not in reply["result"]

            # The same press again (the device did not hear the reply): the same ticket, no second one.
            await kiosk.event("press", {"service": "soc"}, event_id=event)
            await hall.settle()
            assert [r["result"]["number"] for r in kiosk.received["reply"]] == ["A001", "A001"]
            assert await _tickets(hall) == 1

            printed = await kiosk.wait_for("cmd", lambda c: c["name"] == "print")
            assert printed["args"]["ticket"] == reply["result"]["ticket"]
            assert base64.b64decode(printed["args"]["escpos"]).startswith(b"\x1b@")
            await kiosk.send("ack", {"id": printed["id"], "ok": True, "result": {"printed": True}})
            await hall.settle()
        async with reading(hall.runtime.engine) as conn:
            outcome = (await conn.execute(select(device_commands))).one()
        assert (outcome.device, outcome.name, outcome.status) == ("xh-kiosk-1", "print", "succeeded")
        assert outcome.attempts == 1


async def test_a_resent_press_sends_its_ticket_to_print_again_under_the_same_command_id(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    """The process that issued a ticket may die before it sends the print; the kiosk resends the
    press, and whichever process answers it sends the print again, under an id of that ticket at
    that kiosk, which a kiosk carries out once: printed, and never twice."""
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        async with fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk:
            event = await kiosk.event("press", {"service": "soc"})
            ticket = (await kiosk.reply(event))["result"]["ticket"]
            first = await kiosk.wait_for("cmd", lambda c: c["name"] == "print")
            await kiosk.send("ack", {"id": first["id"], "ok": True, "result": {"printed": True}})
            await hall.settle()

            await kiosk.event("press", {"service": "soc"}, event_id=event)
            again = await kiosk.wait_for("cmd", lambda _: len(kiosk.received["cmd"]) > 1)
            await kiosk.send("ack", {"id": again["id"], "ok": True, "result": {"printed": True}})
            await hall.settle()
        assert first["id"] == again["id"] == print_command_id("xh-kiosk-1", ticket)
        assert again["args"]["ticket"] == ticket
        assert await _tickets(hall) == 1


async def test_a_kiosk_with_an_id_card_takes_a_ticket_in_the_residents_name(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        async with fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk:
            good = await kiosk.event("press", {"service": "soc", "card": {"name": "张三", "id_number": VALID_ID}})
            assert (await kiosk.reply(good))["ok"] is True
            wrong_check_digit = {"name": "张三", "id_number": "110105194912310021"}
            bad = await kiosk.event("press", {"service": "soc", "card": wrong_check_digit})
            refused = await kiosk.reply(bad)
            assert refused["ok"] is False
            assert refused["error"]["code"] == "bad_id_number"
        async with reading(hall.runtime.engine) as conn:
            holders = [r.applicant_id_number for r in await conn.execute(select(tickets))]
        assert holders == [VALID_ID]


async def test_a_registered_kiosk_vouches_for_the_appointment_it_checked_in(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    # A device logs in with its own password and speaks only for itself: it may grant what a public
    # browser kiosk may not (tests/queueing/test_api.py), having checked the booking.
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        async with fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk:
            booked = {"service": "soc", "priority": "appointment", "appointment_at": datetime.now(UTC).isoformat()}
            reply = await kiosk.reply(await kiosk.event("press", booked))
            assert reply["ok"] is True, reply
            assert reply["result"]["no_counter"] is True  # no counter is open in this hall yet
        async with reading(hall.runtime.engine) as conn:
            assert [r.priority for r in await conn.execute(select(tickets))] == ["appointment"]


async def test_an_unknown_device_waits_as_pending_and_is_never_obeyed(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        async with fake_device(broker.connector(), "xh", "stranger-1") as stranger:
            await stranger.send("state", {"status": "online", "kind": "kiosk", "firmware": "9.9"}, retain=True)
            await stranger.event("press", {"service": "soc"})
            await hall.settle()
            assert stranger.received["reply"] == []
        assert await _tickets(hall) == 0
        # The pending row is written by the writer behind the gateway: on a busy machine it may
        # land after the settling pause, so wait for it (bounded).
        row = None
        for _ in range(250):
            async with reading(hall.runtime.engine) as conn:
                row = (await conn.execute(select(devices).where(devices.c.id == "stranger-1"))).first()
            if row is not None:
                break
            await asyncio.sleep(0.02)
        assert row is not None
        assert (row.status, row.kind, row.firmware) == ("pending", "kiosk", "9.9")
        # Once it is known as pending, what it sends is refused as coming from a device not
        # registered. That refusal is counted as the gateway gets to it, after the pending row on a
        # busy machine: wait for it too (bounded).
        rejected = hall.devices.gateway.stats.rejected
        for _ in range(250):
            if sum(rejected["stranger-1"].values()) >= 2:
                break
            await asyncio.sleep(0.02)
        assert rejected["stranger-1"] == {"unknown_device": 1, "not_registered": 1}


async def test_a_device_speaking_in_another_halls_name_is_refused(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        async with fake_device(broker.connector(), "xh-hp", "xh-kiosk-1") as kiosk:
            await kiosk.event("press", {"service": "soc"})
            await hall.settle()
            assert kiosk.received["reply"] == []
        assert await _tickets(hall) == 0
        assert hall.devices.gateway.stats.rejected["xh-kiosk-1"]["wrong_hall"] == 1


async def test_a_keypad_calls_for_the_clerk_who_opened_its_counter(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        await hall.register("xh-c1-keypad", "keypad", counter=1)
        async with (
            fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk,
            fake_device(broker.connector(), "xh", "xh-c1-keypad") as keypad,
        ):
            await kiosk.reply(await kiosk.event("press", {"service": "soc"}))
            closed = await keypad.reply(await keypad.event("call"))
            assert closed["ok"] is False
            assert closed["error"]["code"] == "counter_closed"

            await hall.open_counter(1)
            called = await keypad.reply(await keypad.event("call"))
            assert called["ok"] is True
            assert called["result"]["number"] == "A001"
            empty = await keypad.reply(await keypad.event("call"))
            # The counter still holds A001: refused with a code a keypad can act on.
            assert empty["ok"] is False
            assert empty["error"]["code"] == "counter_busy"
            assert "A001" in empty["error"]["message"]


async def test_a_rating_pad_rates_the_service_just_finished_at_its_counter(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        await hall.register("xh-c1-keypad", "keypad", counter=1)
        await hall.register("xh-c1-rating", "rating_pad", counter=1)
        async with (
            fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk,
            fake_device(broker.connector(), "xh", "xh-c1-keypad") as keypad,
            fake_device(broker.connector(), "xh", "xh-c1-rating") as pad,
        ):
            early = await pad.reply(await pad.event("rate", {"level": 5}))
            assert early["error"]["code"] == "nothing_to_rate"
            await kiosk.reply(await kiosk.event("press", {"service": "soc"}))
            await hall.open_counter(1)
            for key in ("call", "start", "finish"):
                assert (await keypad.reply(await keypad.event(key)))["ok"] is True
            rated = await pad.reply(await pad.event("rate", {"level": 2}))
            assert rated == {"v": 1, "id": rated["id"], "ok": True, "result": {"rated": True, "level": 2}}
            out_of_range = await pad.reply(await pad.event("rate", {"level": 9}))
            assert out_of_range["ok"] is False
            assert out_of_range["error"]["code"] == "bad_field"
        async with reading(hall.runtime.engine) as conn:
            given = (await conn.execute(select(ratings))).one()
        assert (given.level, given.counter, given.source) == (2, 1, "rating_pad")


async def test_a_resent_event_gets_its_first_answer_after_the_state_moved_on(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    """A server may act on an event and die before replying; the device resends it, and another
    server takes it when the state has moved on because of it (the ticket is called, the service
    rated). The resend is answered with what the event did, not refused by the state it made."""
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        await hall.register("xh-c1-keypad", "keypad", counter=1)
        await hall.register("xh-c1-rating", "rating_pad", counter=1)
        async with (
            fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk,
            fake_device(broker.connector(), "xh", "xh-c1-keypad") as keypad,
            fake_device(broker.connector(), "xh", "xh-c1-rating") as pad,
        ):
            await kiosk.reply(await kiosk.event("press", {"service": "soc"}))
            await hall.open_counter(1)

            async def twice(device: FakeDevice, key: str, data: dict[str, int] | None = None) -> list[dict[str, Any]]:
                event_id = await device.event(key, data)
                await device.reply(event_id)
                await device.event(key, data, event_id=event_id)
                await device.wait_for("reply", lambda _: sum(r["id"] == event_id for r in device.received["reply"]) > 1)
                return [r for r in device.received["reply"] if r["id"] == event_id]

            called, again = await twice(keypad, "call")
            assert called["ok"] is True and called["result"]["number"] == "A001"
            assert again == called  # not "counter_busy": the counter is busy with this very call
            for key in ("start", "finish"):
                assert (await keypad.reply(await keypad.event(key)))["ok"] is True
            rated, again = await twice(pad, "rate", {"level": 4})
            assert rated["result"] == {"rated": True, "level": 4}
            assert again == rated  # not "nothing_to_rate": this rating took the service
        async with reading(hall.runtime.engine) as conn:
            assert len((await conn.execute(select(ratings))).all()) == 1
            calls = await conn.execute(select(events.c.seq).where(events.c.type == "ticket.called"))
            assert len(calls.all()) == 1


async def test_an_id_reader_hands_the_card_to_its_counter_masked_for_everyone_else(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-c2-idr", "id_reader", counter=2)
        head = await hall.head()
        async with fake_device(broker.connector(), "xh", "xh-c2-idr") as reader:
            read = await reader.reply(await reader.event("card", {"name": "李四", "id_number": VALID_ID}))
            assert read["ok"] is True
            assert read["result"] == {"read": True}
        card = hall.devices.gateway.cards.card_at(hall.halls["xh"], 2)
        assert card is not None
        assert card.id_number == VALID_ID
        assert card.masked()["id_number"] == "110***********002X"
        assert await hall.head() == head  # a card read is not a change of state


async def test_a_wired_readers_card_reaches_its_counter_as_an_mqtt_readers_does(
    tmp_path: Path, broker: MemoryBroker
) -> None:
    from datetime import date

    from devices.idcard_data import IdCardData
    from devices.protocol import Refused

    card = IdCardData(
        name="李四",
        sex="2",
        nation="01",
        birth=date(1949, 12, 31),
        address="北京市东城区",
        id_number=VALID_ID,
        issuer="北京市公安局东城分局",
        valid_from=date(2020, 1, 1),
        valid_until=None,
    )
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-c3-pcsc", "id_reader", counter=3)
        held = hall.devices.gateway.accept_card("xh-c3-pcsc", card)
        assert held.masked() == {"counter": 3, "name": "李四", "id_number": "110***********002X"}
        found = hall.devices.gateway.cards.card_at(hall.halls["xh"], 3)
        assert found is not None and found.id_number == VALID_ID and found.extra["nation"] == "汉族"
        # Only a registered ID reader hands a card over.
        with pytest.raises(Refused):
            hall.devices.gateway.accept_card("xh-nobody", card)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (encode({"id": "abcdefgh1", "type": "press", "data": {}}).replace(b'"v":1', b'"v":2'), "bad_version"),
        (b'{"id": "abcdefgh1", "type": "press"}', "bad_version"),
        (encode({"id": "short", "type": "press"}), "bad_field"),
        (encode({"id": "abcdefgh1", "type": "press", "data": {"service": "x" * MAX_PAYLOAD}}), "too_large"),
        (encode({"id": "abcdefgh1", "type": "explode", "data": {}}), "bad_event"),
        (encode({"id": "abcdefgh1", "type": "press", "data": {"service": "nope"}}), None),
    ],
)
async def test_bad_events_are_refused_counted_and_change_nothing(
    tmp_path: Path, broker: MemoryBroker, payload: bytes, reason: str | None
) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        head = await hall.head()
        async with fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk:
            await kiosk.send("evt", payload)
            await hall.settle()
        assert await hall.head() == head
        assert await _tickets(hall) == 0
        rejected = hall.devices.gateway.stats.rejected["xh-kiosk-1"]
        if reason is None:
            # Well formed, but the queue refuses (no such service): answered, not counted as bad input.
            assert kiosk.received["reply"][0]["ok"] is False
            assert kiosk.received["reply"][0]["error"]["code"] == "not_found"
            assert not rejected
        else:
            assert rejected[reason] == 1
            # An event whose id can be read is answered, so the device stops resending it; one
            # too large is dropped unread.
            readable = b"abcdefgh1" in payload and reason != "too_large"
            expected = [("abcdefgh1", reason)] if readable else []
            assert [(r["id"], r["error"]["code"]) for r in kiosk.received["reply"]] == expected


async def test_messages_on_topics_outside_the_scheme_are_counted(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        async with broker.connector()("prowler", None) as link:
            await link.publish("hall/xh/dev/xh-kiosk-1/cmd", b"{}")  # server's channel: not subscribed
            await link.publish("hall/xh/dev/BAD ID/evt", b"{}")
            await link.publish("hall/nowhere/dev/xh-kiosk-1/evt", b"{}")
        await hall.settle()
        stats = hall.devices.gateway.stats
        assert stats.rejected["?"]["bad_topic"] == 1
        assert stats.rejected["xh-kiosk-1"]["unknown_hall"] == 1


async def test_presence_follows_the_will_and_silence(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector(), device_silence_seconds=0.2) as hall:
        await hall.register("xh-led-1", "led")
        gateway = hall.devices.gateway

        async def power_cut() -> None:
            async with fake_device(broker.connector(), "xh", "xh-led-1") as led:
                await led.send("state", {"status": "online", "firmware": "2.1"}, retain=True)
                await hall.settle()
                assert gateway.known.device("xh-led-1").online is True
                raise RuntimeError("power cut")  # leaves without a clean disconnect: the Will goes out

        with pytest.raises(RuntimeError):
            await power_cut()
        await hall.settle()
        assert gateway.known.device("xh-led-1").online is False

        async with fake_device(broker.connector(), "xh", "xh-led-1", will=False) as led:
            await led.send("tele", {"temperature": 40.5})
            await hall.settle()
            assert gateway.known.device("xh-led-1").online is True
            assert gateway.known.telemetry("xh-led-1")["temperature"] == 40.5
            # Silent, with no Will to tell: the sweep decides.
            await asyncio.sleep(0.3)
            await gateway.sweep()
            await hall.settle()
            assert gateway.known.device("xh-led-1").online is False


async def test_a_device_heard_by_another_process_is_not_taken_offline(tmp_path: Path, broker: MemoryBroker) -> None:
    """Among several processes each hears a share of a device's heartbeats and writes when it last
    heard it to the registry's row; the sweep, run by one of them, looks there before it calls a
    device silent. A process that heard the device earlier never moves that time back."""
    async with device_hall(tmp_path, broker.connector(), device_silence_seconds=1.0) as hall:
        await hall.register("xh-led-1", "led")
        gateway = hall.devices.gateway
        async with fake_device(broker.connector(), "xh", "xh-led-1", will=False) as led:
            await led.send("tele", {"temperature": 40.5})
            await hall.settle()
        assert gateway.known.device("xh-led-1").online is True
        heard_here = gateway.known.telemetry("xh-led-1")["last_seen"]
        # Another process hears the next heartbeat (before this one's silence runs out, so that
        # no sweep, the server's own included, finds the device silent everywhere meanwhile).
        await asyncio.sleep(0.3)
        elsewhere = datetime.now(UTC)
        async with hall.runtime.engine.begin() as conn:
            await conn.execute(update(devices).where(devices.c.id == "xh-led-1").values(last_seen=elsewhere))
        await asyncio.sleep(0.9)  # unheard here for longer than the limit
        await gateway.sweep()
        await hall.settle()
        assert gateway.known.device("xh-led-1").online is True

        await gateway.flush()  # this process heard it before the other did: the row keeps the later time
        async with reading(hall.runtime.engine) as conn:
            row = (await conn.execute(select(devices.c.last_seen).where(devices.c.id == "xh-led-1"))).one()
        assert row.last_seen == elsewhere and heard_here < elsewhere.isoformat()

        await asyncio.sleep(1.1)
        await gateway.sweep()
        await hall.settle()
        assert gateway.known.device("xh-led-1").online is False


async def test_a_command_whose_ack_is_lost_is_resent_with_the_same_id(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-led-1", "led")
        gateway = hall.devices.gateway
        gateway.commands.ack_timeout = 0.2
        async with fake_device(broker.connector(), "xh", "xh-led-1") as led:
            sending = asyncio.create_task(gateway.send("xh-led-1", "ping", {}))
            first = await led.wait_for("cmd")
            await asyncio.sleep(0.3)  # the first ack is "lost": none is sent
            await led.wait_for("cmd", lambda c: len(led.received["cmd"]) >= 2)
            await led.send("ack", {"id": first["id"], "ok": True, "result": {"pong": True}})
            done = await sending
            # A second ack for the same id (the device answered both tries) is harmless.
            await led.send("ack", {"id": first["id"], "ok": True, "result": {"pong": True}})
            await hall.settle()
        assert [c["id"] for c in led.received["cmd"]] == [first["id"], first["id"]]
        assert (done.status.value, done.attempts, done.result) == ("succeeded", 2, {"pong": True})
        assert gateway.stats.late_acks == 1
        assert not gateway.stats.rejected.get("xh-led-1")


async def test_a_command_nobody_acknowledges_times_out_after_its_tries(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-led-1", "led")
        gateway = hall.devices.gateway
        gateway.commands.ack_timeout = 0.05
        done = await gateway.send("xh-led-1", "ping", {})
        assert (done.status.value, done.attempts) == ("timed_out", 3)
        await hall.settle()
        async with reading(hall.runtime.engine) as conn:
            assert (await conn.execute(select(device_commands.c.status))).scalar_one() == "timed_out"


async def test_an_ack_for_no_command_is_counted(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-led-1", "led")
        async with fake_device(broker.connector(), "xh", "xh-led-1") as led:
            await led.send("ack", {"id": "never-sent-1", "ok": True})
            await hall.settle()
        assert hall.devices.gateway.stats.rejected["xh-led-1"]["unknown_ack"] == 1


async def test_displays_get_their_content_retained_and_updated(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        await hall.register("xh-c1-window", "window", counter=1)
        await hall.register("xh-c1-keypad", "keypad", counter=1)
        await hall.register("xh-led-1", "led")
        await hall.open_counter(1)
        async with (
            fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk,
            fake_device(broker.connector(), "xh", "xh-c1-keypad") as keypad,
        ):
            await kiosk.reply(await kiosk.event("press", {"service": "soc"}))
            await keypad.reply(await keypad.event("call"))
        # Displays that connect afterwards (a reboot) get what they must show at once.
        async with (
            fake_device(broker.connector(), "xh", "xh-c1-window") as window,
            fake_device(broker.connector(), "xh", "xh-led-1") as led,
        ):
            shown = await window.wait_for("display", lambda d: d.get("number") == "A001")
            assert (shown["kind"], shown["counter"], shown["status"]) == ("window", 1, "open")
            line = await led.wait_for("display", lambda d: bool(d.get("lines")))
            assert "A001" in line["lines"][0]
            assert "1" in line["lines"][0]


async def test_a_device_speaking_for_another_counter_is_refused(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-c1-keypad", "keypad", counter=1)
        await hall.open_counter(2)
        head = await hall.head()
        async with fake_device(broker.connector(), "xh", "xh-c1-keypad") as keypad:
            refused = await keypad.reply(await keypad.event("call", {"counter": 2}))
        assert refused["ok"] is False
        assert refused["error"]["code"] == "wrong_counter"
        assert await hall.head() == head
        assert hall.devices.gateway.stats.rejected["xh-c1-keypad"]["wrong_counter"] == 1


async def test_a_command_outcome_recorded_twice_is_one_row(tmp_path: Path, broker: MemoryBroker) -> None:
    async with device_hall(tmp_path, broker.connector()) as hall:
        await hall.register("xh-led-1", "led")
        done = {"device": "xh-led-1", "id": "cmd-00000001", "name": "ping", "status": "succeeded", "attempts": 1}
        first = await hall.runtime.writer.submit(
            Command("record-0001", hall.halls["xh"], "device.command_done", "t", done)
        )
        again = {**done, "attempts": 2}
        second = await hall.runtime.writer.submit(
            Command("record-0002", hall.halls["xh"], "device.command_done", "t", again)
        )
        assert first.ok and second.ok
        async with reading(hall.runtime.engine) as conn:
            rows = (await conn.execute(select(device_commands.c.id, device_commands.c.attempts))).all()
        assert [tuple(r) for r in rows] == [("cmd-00000001", 2)]


async def test_a_device_wired_while_the_gateway_rereads_it_is_known_wired(tmp_path: Path, broker: MemoryBroker) -> None:
    """Registered and wired at once: the wiring is committed while the gateway is still reading the
    device it heard registered. It reads it again, so it knows the wire and the line is opened (a
    wired device sends nothing that would make the gateway read it later)."""
    async with device_hall(tmp_path, broker.connector()) as hall:
        gateway = hall.devices.gateway
        first_read = gateway.known.refresh
        reads = 0

        async def refresh(device_id: str) -> Any:
            nonlocal reads
            reads += 1
            seen = await first_read(device_id)
            if reads == 1:
                outcome = await hall.submit(
                    "xh", "device.wire", device="xh-c1-keypad", wire={"port": "socket://127.0.0.1:9", "address": 1}
                )
                assert outcome.ok, outcome.result
            return seen

        gateway.known.refresh = refresh  # type: ignore[method-assign]
        await hall.register("xh-c1-keypad", "keypad", counter=1)
        await hall.settle()
        device = gateway.known.device("xh-c1-keypad")
        assert device is not None and device.wire is not None
        assert "socket://127.0.0.1:9" in hall.devices.serial.lines
