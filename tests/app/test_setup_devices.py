"""The hall file binds registered devices to counters: the export lists each counter's devices,
a file that names one under another counter moves it there, and a file never unbinds a device (a
keypad or a window display always belongs to some counter; the device console retires it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from hall.hallfile.plan import plan
from hall.hallfile.reading import HallFileError, read
from hall.hallfile.store import apply, export, known_devices, known_halls
from hall.hallfile.writing import dump
from hall.setup import initialise
from hall.storage.device_tables import devices
from hall.storage.tables import events
from tests.conftest import Database

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _with_keypad(database: Database) -> None:
    engine = database.engines[0]
    ids, _ = await initialise(engine)
    async with engine.begin() as conn:
        await conn.execute(
            insert(devices).values(id="xh-c1-kp", hall_id=ids["xh"], kind="keypad", status="active", counter=1)
        )


async def _read(database: Database, text: str) -> object:
    async with database.engines[0].connect() as conn:
        return read(
            text.encode(), "d.yaml", known_halls=await known_halls(conn), known_devices=await known_devices(conn)
        )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_file_moves_a_keypad_to_another_counter_once(database: Database) -> None:
    await _with_keypad(database)
    engine = database.engines[0]
    async with engine.connect() as conn:
        held = await export(conn)
    assert held.halls[0].counters[0].devices == ["xh-c1-kp"]
    text = dump(held)
    moved = text.replace("devices: [xh-c1-kp]", "", 1)
    moved = moved.replace("  - number: 2\n", "  - number: 2\n    devices: [xh-c1-kp]\n", 1)
    wanted = await _read(database, moved)
    async with engine.begin() as conn:
        changes = plan(await export(conn), wanted).changes  # type: ignore[arg-type]
        assert [c.text for c in changes] == ["~ counter xh/2: devices [] → [xh-c1-kp]"]
        await apply(conn, changes, NOW)
    async with engine.connect() as conn:
        counter = (await conn.execute(select(devices.c.counter).where(devices.c.id == "xh-c1-kp"))).scalar_one()
        bound = (await conn.execute(select(events.c.data).where(events.c.type == "device.bound"))).scalars().all()
        again = plan(await export(conn), wanted).changes  # type: ignore[arg-type]
    assert counter == 2
    assert bound == [{"device": "xh-c1-kp", "kind": "keypad", "counter": 2}]
    assert again == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_file_naming_an_unknown_or_doubly_bound_device_is_refused(database: Database) -> None:
    await _with_keypad(database)
    async with database.engines[0].connect() as conn:
        text = dump(await export(conn))
    unknown = text.replace("devices: [xh-c1-kp]", "devices: [xh-c1-kp, ghost]", 1)
    with pytest.raises(HallFileError) as refused:
        await _read(database, unknown)
    assert any("device 'ghost' is not a registered device of hall xh" in p for p in refused.value.problems)
    twice = text.replace("  - number: 2\n", "  - number: 2\n    devices: [xh-c1-kp]\n", 1)
    with pytest.raises(HallFileError) as refused:
        await _read(database, twice)
    assert any("device 'xh-c1-kp' is bound twice (also to xh/1)" in p for p in refused.value.problems)
