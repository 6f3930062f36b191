"""The one writer path: commands in, rules applied, events and state committed together.

Commands that arrive together share one transaction (group commit): the writer task takes every
command waiting in its queue, applies the pure rules to each in arrival order, inserts all their
event rows and state rows, commits once, and only then answers each caller. An answer therefore
always means "durable", and one fsync is shared by the whole batch.

Each hall's state is cached in memory with the sequence number it reflects. Every transaction
locks the hall's head row first and compares its ``last_seq`` with the cache; if another writer
(another process on the same PostgreSQL) moved it on, the state is loaded afresh. The head row
lock is also what keeps sequences gapless and unique with several writers. On PostgreSQL each
transaction that logged events also notifies the other processes of the halls' new heads, at commit
(``hall.storage.follower``).

With several *lanes* (PostgreSQL) each hall has a queue and a task of its own, and up to ``lanes``
halls commit at once, each on its own connection. A hall's commands are still decided in arrival
order and batched together, but halls no longer wait for each other: when another process holds
one hall's head row, or that hall's batch is slow, only that hall waits (unless every lane is
taken by such halls). To each other the lanes are like other processes: they meet only at the head
rows, which the version check above already handles, and their events reach the hub through the
follower, which puts each hall's events in order. SQLite has one database lock, so there a writer
has one lane, and a batch takes every hall's waiting commands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hall.kernel.errors import CommandTimeout, DomainError, NotFound, WriterClosed
from hall.kernel.events import Command, Decision, Event
from hall.kernel.i18n import N_
from hall.storage.database import reading
from hall.storage.follower import notify
from hall.storage.tables import commands, events, hall_heads

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Listener = Callable[[Sequence[Event]], None]
T = TypeVar("T")
# Work that is not a rule's decision (an administrator setting a hall up): given the open
# transaction and the writer's time, it returns its result and the events it logged.
Job = Callable[[AsyncConnection, datetime], Awaitable[tuple[T, Sequence[Event]]]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Domain(Protocol):
    """Binds one pure rule set to storage: how to load its state and store what it decided."""

    name: str
    commands: frozenset[str]

    async def load(self, conn: AsyncConnection, hall_id: int) -> Any: ...

    def decide(self, state: Any, command: Command, now: datetime) -> Decision[Any]: ...

    async def persist(self, conn: AsyncConnection, events: Sequence[Event], changed: Sequence[tuple[int, Any]]) -> None:
        """Write the state rows for a batch: its events, and the ``changed`` values its decisions
        named, each with its hall id."""


@dataclass(frozen=True)
class Outcome:
    """The answer to a command: its result, the events it logged, and whether it was a repeat."""

    ok: bool
    result: Mapping[str, Any]
    events: tuple[Event, ...] = ()
    duplicate: bool = False


@dataclass
class _Pending:
    command: Command
    future: asyncio.Future[Outcome]


@dataclass
class _Job(Generic[T]):
    work: Job[T]
    future: asyncio.Future[T]


@dataclass
class _HallState:
    version: int
    parts: dict[str, Any] = field(default_factory=dict)


_STOP = object()


class Writer:
    def __init__(
        self,
        engine: AsyncEngine,
        domains: Iterable[Domain],
        *,
        clock: Clock = utc_now,
        batch_max: int = 500,
        lanes: int = 1,
    ) -> None:
        if lanes < 1:
            raise ValueError(f"a writer needs at least one lane; got {lanes}")
        self._engine = engine
        self._domains = list(domains)
        self._by_command: dict[str, Domain] = {}
        for domain in self._domains:
            for name in domain.commands:
                if name in self._by_command:
                    raise ValueError(f"command {name!r} is claimed by two domains")
                self._by_command[name] = domain
        self._clock = clock
        self._batch_max = batch_max
        # One lane: every command and job. Several: the jobs, while each hall has a queue of its own.
        self._queue: asyncio.Queue[_Pending | object] = asyncio.Queue()
        self._lanes = lanes
        self._slots = asyncio.Semaphore(lanes)
        self._hall_queues: dict[int, asyncio.Queue[_Pending | object]] = {}
        self._states: dict[int, _HallState] = {}
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._hall_tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.batches = 0
        self.committed = 0
        # Batches that failed whole and were committed again in parts (see _commit).
        self.split_batches = 0

    def now(self) -> datetime:
        """The writer's clock: the time its commands are decided at, which pages showing a light
        as it stands use too."""
        return self._clock()

    @property
    def domains(self) -> tuple[Domain, ...]:
        """The rule sets this writer applies, in the order it was given them."""
        return tuple(self._domains)

    def add_listener(self, listener: Listener) -> None:
        """Called after each commit with the events it made durable, in sequence order per hall."""
        self._listeners.append(listener)

    def cached_state(self, hall_id: int, domain_name: str) -> Any | None:
        """This writer's own latest state of a hall's domain, without asking the database whether
        another process moved on: for what this writer has just committed (a ticket to print)."""
        cached = self._states.get(hall_id)
        return cached.parts.get(domain_name) if cached is not None else None

    async def read_state(self, hall_id: int, domain_name: str) -> tuple[int, Any] | None:
        """A hall's current state of one domain and the sequence it reflects, for reading only:
        the cached one when it is up to date, else loaded afresh. None if there is no such hall."""
        domain = next((d for d in self._domains if d.name == domain_name), None)
        if domain is None:
            raise ValueError(f"no domain named {domain_name!r}")
        async with reading(self._engine) as conn:
            row = await conn.execute(select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == hall_id))
            head = row.scalar_one_or_none()
            if head is None:
                return None
            cached = self._states.get(hall_id)
            if cached is not None and cached.version == head:
                return int(head), cached.parts[domain_name]
            return int(head), await domain.load(conn, hall_id)

    @property
    def lanes(self) -> int:
        return self._lanes

    async def recorded(self, command: Command) -> Outcome | None:
        """The first result of ``command``'s id if a writer (of any process) has committed it, as
        ``submit`` would answer a repeat; None if it was never done."""
        async with reading(self._engine) as conn:
            known = await self._known_results(conn, [command.key])
        stored = known.get(command.key)
        return _repeat(stored) if stored is not None else None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(self._queue), name="hall-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        self._closed = True
        if self._task is not None:
            for queue in (self._queue, *self._hall_queues.values()):
                queue.put_nowait(_STOP)
            await asyncio.gather(self._task, *self._hall_tasks)
            self._task = None
            self._hall_tasks = []

    def _queue_of(self, hall_id: int) -> asyncio.Queue[_Pending | object]:
        if self._lanes == 1:
            return self._queue
        queue = self._hall_queues.get(hall_id)
        if queue is None:
            queue = self._hall_queues[hall_id] = asyncio.Queue()
            self._hall_tasks.append(asyncio.create_task(self._run(queue), name=f"hall-writer-{hall_id}"))
        return queue

    async def __aenter__(self) -> Writer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def submit(self, command: Command, *, timeout: float | None = 30.0) -> Outcome:  # noqa: ASYNC109
        """Queue a command and wait for its committed outcome."""
        if self._closed or self._task is None:
            raise WriterClosed("the writer is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue_of(command.hall_id).put_nowait(_Pending(command, future))
        try:
            # shield: a caller that stops waiting must not cancel a commit shared with others.
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise CommandTimeout(f"command {command.id} not committed within {timeout}s") from None

    async def run(self, work: Job[T], *, timeout: float | None = 30.0) -> T:  # noqa: ASYNC109
        """Run ``work`` in a transaction of its own on the writer's task, between two batches:
        what it logs is ordered with every command's events, published to the listeners like
        theirs, and the halls it touched are loaded afresh by the next command. It is for changes
        to what the rules stand on (a hall's services and counters), which go through the same
        checks as the hall file rather than a rule. An exception rolls the transaction back and
        reaches the caller."""
        if self._closed or self._task is None:
            raise WriterClosed("the writer is not running")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(work, future))
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise CommandTimeout(f"administrative work not committed within {timeout}s") from None

    async def _run_job(self, job: _Job[Any]) -> None:
        now = self._clock()
        try:
            async with self._engine.begin() as conn:
                result, logged = await job.work(conn, now)
                await notify(conn, _last_per_hall(logged))
        except Exception as exc:
            if not job.future.done():
                job.future.set_exception(exc)
            return
        for hall_id in {e.hall_id for e in logged}:
            self._states.pop(hall_id, None)
        if not job.future.done():
            job.future.set_result(result)
        if logged:
            ordered = sorted(logged, key=lambda e: (e.hall_id, e.seq))
            for listener in self._listeners:
                try:
                    listener(ordered)
                except Exception:
                    log.exception("event listener %r failed", listener)

    async def _run(self, queue: asyncio.Queue[_Pending | object]) -> None:
        stopping = False
        while not stopping:
            first = await queue.get()
            batch: list[_Pending] = []
            item: object = first
            while True:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, _Job):
                    # A job runs alone, after the commands that came before it.
                    if batch:
                        async with self._slots:
                            await self._commit(batch)
                        batch = []
                    async with self._slots:
                        await self._run_job(item)
                else:
                    assert isinstance(item, _Pending)
                    batch.append(item)
                if len(batch) >= self._batch_max or queue.empty():
                    break
                item = queue.get_nowait()
            if batch:
                async with self._slots:
                    await self._commit(batch)
        while not queue.empty():
            item = queue.get_nowait()
            if isinstance(item, _Pending | _Job) and not item.future.done():
                item.future.set_exception(WriterClosed("the writer stopped"))

    async def _commit(self, batch: list[_Pending]) -> None:
        """Commit a batch in one transaction. A batch that cannot be stored (a value the database
        refuses, a fault in a domain's persist) is committed again in halves, and so on, until the
        command at fault fails alone: one bad command never fails the others batched with it. A
        rolled-back transaction leaves nothing behind, so each part starts afresh; the parts keep
        the batch's order."""
        now = self._clock()
        hall_ids = sorted({h for p in batch for h in (p.command.hall_id, *p.command.also)})
        try:
            async with self._engine.begin() as conn:
                outcomes, working, heads, new_events = await self._apply(conn, batch, hall_ids, now)
        except Exception as exc:
            # Nothing was committed: forget cached state that may have been half-applied.
            for hall_id in hall_ids:
                self._states.pop(hall_id, None)
            if len(batch) > 1:
                self.split_batches += 1
                log.warning("batch of %d commands failed (%s); committing it in halves", len(batch), exc)
                half = len(batch) // 2
                await self._commit(batch[:half])
                await self._commit(batch[half:])
                return
            log.exception("command %s (%s) could not be stored", batch[0].command.id, batch[0].command.name)
            if not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        for hall_id, parts in working.items():
            self._states[hall_id] = _HallState(heads[hall_id], parts)
        self.batches += 1
        self.committed += len(batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not pending.future.done():
                pending.future.set_result(outcome)
        if new_events:
            for listener in self._listeners:
                try:
                    listener(new_events)
                except Exception:
                    log.exception("event listener %r failed", listener)

    async def _apply(
        self, conn: AsyncConnection, batch: list[_Pending], hall_ids: list[int], now: datetime
    ) -> tuple[list[Outcome], dict[int, dict[str, Any]], dict[int, int], list[Event]]:
        heads: dict[int, int] = {}
        for hall_id in hall_ids:  # sorted: two writers lock heads in the same order, no deadlock
            row = await conn.execute(
                select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == hall_id).with_for_update()
            )
            last = row.scalar_one_or_none()
            if last is not None:
                heads[hall_id] = int(last)
        # Only under the heads' locks: another process committing the same command id (a device's
        # resend that reached it) holds the same hall's lock until its commit, so it is seen here.
        known = await self._known_results(conn, [p.command.key for p in batch])
        working: dict[int, dict[str, Any]] = {}
        for hall_id, last in heads.items():
            cached = self._states.get(hall_id)
            if cached is None or cached.version != last:
                cached = _HallState(last, {d.name: await d.load(conn, hall_id) for d in self._domains})
            working[hall_id] = dict(cached.parts)
        start = dict(heads)

        outcomes: list[Outcome] = []
        new_events: list[Event] = []
        command_rows: list[dict[str, Any]] = []
        # What each domain must store: the events its decisions logged and the values they changed.
        owed: dict[str, tuple[list[Event], list[tuple[int, Any]]]] = {d.name: ([], []) for d in self._domains}
        for pending in batch:
            command = pending.command
            if command.key in known:
                outcomes.append(_repeat(known[command.key]))
                continue
            outcome, domain, changed = self._decide(command, working, heads, now)
            if command.record:
                known[command.key] = dict(outcome.result, ok=outcome.ok)
                if command.hall_id in heads:
                    command_rows.append(
                        {"id": command.key, "hall_id": command.hall_id, "result": known[command.key], "at": now}
                    )
            outcomes.append(outcome)
            new_events.extend(outcome.events)
            if domain is not None:
                owed[domain.name][0].extend(outcome.events)
                owed[domain.name][1].extend((command.hall_id, value) for value in changed)

        if new_events:
            await conn.execute(
                insert(events),
                [
                    {
                        "hall_id": e.hall_id,
                        "seq": e.seq,
                        "type": e.type,
                        "data": dict(e.data),
                        "actor": e.actor,
                        "at": e.at,
                        "command_id": e.command_id,
                    }
                    for e in new_events
                ],
            )
            moved = [{"h": h, "s": heads[h]} for h in heads if heads[h] != start[h]]
            await conn.execute(
                update(hall_heads).where(hall_heads.c.hall_id == bindparam("h")).values(last_seq=bindparam("s")),
                moved,
            )
            # Other server processes learn of these events at commit (never of a rolled-back batch).
            await notify(conn, [(m["h"], m["s"]) for m in moved])
        for domain in self._domains:
            logged, values = owed[domain.name]
            if logged or values:
                await domain.persist(conn, logged, values)
        if command_rows:
            await conn.execute(insert(commands), command_rows)
        return outcomes, working, heads, new_events

    def _decide(
        self, command: Command, working: dict[int, dict[str, Any]], heads: dict[int, int], now: datetime
    ) -> tuple[Outcome, Domain | None, tuple[Any, ...]]:
        if command.hall_id not in heads:
            return _refused(NotFound(N_("no hall with id {hall}"), say={"hall": command.hall_id})), None, ()
        domain = self._by_command.get(command.name)
        if domain is None:
            return _refused(NotFound(N_("unknown command '{command}'"), command=command.name)), None, ()
        parts = working[command.hall_id]
        try:
            decision = domain.decide(parts[domain.name], command, now)
        except DomainError as exc:
            return _refused(exc), None, ()
        except Exception:
            # A bug in one rule must not sink the commands batched with it; the state is untouched
            # because rules never mutate what they are given.
            log.exception("rule for %s failed", command.name)
            return _refused(DomainError(N_("internal error while applying the command"))), None, ()
        strays = {h for fact in decision.facts for h in fact.also} - {command.hall_id, *command.also}
        if strays:
            log.error("rule for %s logs at halls %s the command did not declare", command.name, sorted(strays))
            return _refused(DomainError(N_("internal error: the command reaches halls it did not declare"))), None, ()
        parts[domain.name] = decision.state
        logged = []
        for fact in decision.facts:
            for hall_id in (command.hall_id, *sorted(set(fact.also) - {command.hall_id})):
                if hall_id not in heads:
                    continue
                heads[hall_id] += 1
                logged.append(Event(hall_id, heads[hall_id], fact.type, fact.data, command.actor, now, command.id))
        return Outcome(True, dict(decision.result), tuple(logged)), domain, decision.changed

    @staticmethod
    async def _known_results(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = await conn.execute(select(commands.c.id, commands.c.result).where(commands.c.id.in_(set(ids))))
        return {row.id: dict(row.result) for row in rows}


def _last_per_hall(logged: Sequence[Event]) -> list[tuple[int, int]]:
    last: dict[int, int] = {}
    for event in logged:
        last[event.hall_id] = max(event.seq, last.get(event.hall_id, 0))
    return sorted(last.items())


def _refused(error: DomainError) -> Outcome:
    return Outcome(False, error.record())


def _repeat(stored: Mapping[str, Any]) -> Outcome:
    result = {k: v for k, v in stored.items() if k != "ok"}
    return Outcome(bool(stored.get("ok")), result, (), duplicate=True)
