"""Repeated command ids change nothing: random queue days sent through the real writer twice,
once plainly and once with random repeats of earlier commands, end in the same state and log."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hall.kernel.events import Command
from hall.setup import initialise
from hall.storage.database import create_engine
from hall.storage.tables import events
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from tests.conftest import StepClock
from tests.factories import add_staff
from tests.site import open_all_week

_TEMPLATE: dict[str, Any] = {}


def _template() -> tuple[Path, list[int]]:
    """One migrated database with the sample halls, copied for every example."""
    if "path" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="hall-repeats-"))
        path = folder / "template.db"

        async def build() -> list[int]:
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            try:
                await initialise(engine)
                await open_all_week(engine)
                return await add_staff(engine, 1, 3)
            finally:
                await engine.dispose()

        _TEMPLATE.update(path=path, clerks=asyncio.run(build()))
    return _TEMPLATE["path"], _TEMPLATE["clerks"]


step = st.one_of(
    st.tuples(st.just("ticket.issue"), st.sampled_from(["soc", "fund", "info"])),
    st.tuples(
        st.sampled_from(["ticket.call_next", "ticket.start", "ticket.finish", "ticket.no_show", "ticket.recall"]),
        st.integers(0, 2),
    ),
)


async def _run(path: Path, clerks: list[int], plan: list[tuple[str, Any]], repeats: list[int]) -> tuple[Any, ...]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    clock = StepClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    answers: dict[str, Any] = {}
    try:
        async with Writer(engine, [QueueDomain()], clock=clock) as writer:
            sent: list[Command] = []
            for i, counter in enumerate((1, 3, 11)):
                sent.append(
                    Command(f"open-{i:04d}", 1, "counter.open", "staff:x", {"counter": counter, "clerk": clerks[i]})
                )
            for i, (name, arg) in enumerate(plan):
                if name == "ticket.issue":
                    args: dict[str, Any] = {"service": arg}
                else:
                    args = {"counter": (1, 3, 11)[arg], "clerk": clerks[arg]}
                sent.append(Command(f"step-{i:04d}", 1, name, "staff:x", args))
            for index, command in enumerate(sent):
                clock.now += timedelta(seconds=30)
                outcome = await writer.submit(command)
                if command.id in answers:
                    assert outcome.duplicate and (outcome.ok, dict(outcome.result)) == answers[command.id]
                else:
                    answers[command.id] = (outcome.ok, dict(outcome.result))
                for back in repeats:
                    if back <= index and (index - back) % 7 == 0:
                        again = await writer.submit(sent[index - back])
                        assert again.duplicate and again.events == ()
            found = await writer.read_state(1, "queue")
            async with engine.connect() as conn:
                log = [(r.seq, r.type, r.data) for r in await conn.execute(select(events).order_by(events.c.seq))]
    finally:
        await engine.dispose()
    assert found is not None
    state = found[1]
    return (dict(state.tickets), dict(state.lines), dict(state.counters), log)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=st.lists(step, min_size=5, max_size=40), repeats=st.lists(st.integers(0, 6), max_size=4))
def test_repeated_command_ids_change_nothing(plan: list[tuple[str, Any]], repeats: list[int]) -> None:
    template, clerks = _template()
    folder = Path(tempfile.mkdtemp(prefix="hall-repeat-run-"))
    try:
        plain, repeated = folder / "plain.db", folder / "repeated.db"
        shutil.copy(template, plain)
        shutil.copy(template, repeated)
        once = asyncio.run(_run(plain, clerks, plan, []))
        twice = asyncio.run(_run(repeated, clerks, plan, repeats))
        assert once == twice
    finally:
        shutil.rmtree(folder, ignore_errors=True)
