"""The hub: keeps recent events per hall, fans them out to subscribers, and resumes clients.

A subscriber that sends the last sequence number it saw gets exactly the events it missed, from
the in-memory ring of recent events or, when they are older, from the event log in the database;
when even that would be too many, it gets a fresh snapshot instead. Then live events follow in
order. Every step that decides what a client has seen runs without awaiting between it and the
registration of the subscription, so no event can fall between replay and live delivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.events import Event
from hall.storage.database import reading
from hall.storage.tables import events as events_table
from hall.storage.tables import hall_heads
from realtime import protocol
from realtime.connection import Outbox
from realtime.topics import Topic, TopicKind, TopicRegistry

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscriber:
    """One websocket client: its outbox and the topics it follows."""

    outbox: Outbox
    topics: set[Topic] = field(default_factory=set)


class Hub:
    def __init__(
        self,
        engine: AsyncEngine,
        registry: TopicRegistry,
        *,
        ring_size: int = 10_000,
        replay_max: int = 5_000,
    ) -> None:
        self._engine = engine
        self.registry = registry
        self._ring_size = ring_size
        self._replay_max = replay_max
        self._rings: dict[int, deque[Event]] = {}
        self._heads: dict[int, int] = {}
        self._subs: dict[Topic, set[Subscriber]] = {}
        self._by_hall: dict[int, set[Topic]] = {}
        self._snapshots: dict[Topic, tuple[int, str]] = {}
        self._pending: dict[Topic, asyncio.Future[tuple[int, str]]] = {}
        self.published = 0
        # Seconds each publish took to hand its frames to every subscriber's socket (or backlog).
        self.handoff_seconds: deque[float] = deque(maxlen=1000)
        # The same hand-offs in this thread's CPU time: what they cost, even on a busy machine
        # where the wall time also counts the time other processes had the core.
        self.handoff_cpu_seconds: deque[float] = deque(maxlen=1000)

    async def load_heads(self) -> None:
        async with reading(self._engine) as conn:
            rows = await conn.execute(select(hall_heads.c.hall_id, hall_heads.c.last_seq))
            for row in rows:
                self._heads.setdefault(row.hall_id, int(row.last_seq))

    def head(self, hall_id: int) -> int:
        return self._heads.get(hall_id, 0)

    def subscriber_count(self, topic: Topic | None = None) -> int:
        if topic is not None:
            return len(self._subs.get(topic, ()))
        return len({s for subs in self._subs.values() for s in subs})

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, events: Sequence[Event]) -> None:
        """Hand committed events to every subscriber of every topic that carries them."""
        started, cpu = time.perf_counter(), time.thread_time()
        self._publish(events)
        self.handoff_seconds.append(time.perf_counter() - started)
        self.handoff_cpu_seconds.append(time.thread_time() - cpu)

    def stats(self) -> dict[str, object]:
        timings = sorted(self.handoff_seconds)
        paths: dict[str, int] = {}
        for sub in {s for subs in self._subs.values() for s in subs}:
            paths[sub.outbox.path] = paths.get(sub.outbox.path, 0) + 1
        return {
            "subscribers": self.subscriber_count(),
            # How many subscribers' frames go straight to the transport ("wire") or through ASGI.
            "send_paths": paths,
            "topics": len(self._subs),
            "published": self.published,
            "handoff_ms": [round(t * 1000, 3) for t in self.handoff_seconds],
            "handoff_cpu_ms": [round(t * 1000, 3) for t in self.handoff_cpu_seconds],
            "handoff_p50_ms": round(timings[len(timings) // 2] * 1000, 3) if timings else None,
        }

    def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            head = self._heads.get(event.hall_id, 0)
            if event.seq <= head:
                continue  # seen already
            ring = self._rings.get(event.hall_id)
            if ring is None:
                ring = self._rings[event.hall_id] = deque(maxlen=self._ring_size)
            if event.seq != head + 1:
                # Another writer's events are not in memory: resumes must go to the database.
                ring.clear()
            ring.append(event)
            self._heads[event.hall_id] = event.seq
            self.published += 1
            for topic in self._by_hall.get(event.hall_id, ()):
                subs = self._subs.get(topic)
                if not subs:
                    continue
                shown = self.registry.kind_of(topic).select(topic, event)
                if shown is None:
                    continue
                frame = protocol.event_frame(topic, event.seq, _event_json(event, shown))
                for sub in list(subs):
                    if not sub.outbox.offer(frame):
                        self.drop(sub)

    # -- subscribing --------------------------------------------------------------------------

    async def subscribe(self, sub: Subscriber, topic: Topic, since: int | None) -> str:
        """Bring ``sub`` up to date on ``topic`` from ``since``, then deliver live events.

        Returns the mode used: "live" (nothing missed), "replay" (the missed events) or
        "snapshot" (a fresh snapshot, then what followed it).
        """
        kind = self.registry.kind_of(topic)
        if topic in sub.topics:
            self.unsubscribe(sub, topic)
        head = self.head(topic.hall_id)
        prefix: list[str] = []
        if since is None or since > head or head - since > self._replay_max:
            since, frame = await self._snapshot(topic, kind)
            prefix.append(frame)
            mode = "snapshot"
        else:
            mode = "live" if since == head else "replay"
        for _ in range(3):
            older = [] if self._ring_covers(topic.hall_id, since) else await self._fetch(topic.hall_id, since)
            if self._register(sub, topic, kind, mode, since, older, prefix):
                return mode
        raise RuntimeError(f"could not bring a subscriber of {topic} up to date")

    async def _snapshot(self, topic: Topic, kind: TopicKind) -> tuple[int, str]:
        """A topic's snapshot frame and the sequence it reflects.

        A hall's screens reconnect together after a restart: subscribers arriving while a snapshot
        is being read share that read, and later ones reuse it until the hall's log moves on. Each
        then registers from the snapshot's sequence, so what followed it is replayed as usual.
        """
        cached = self._snapshots.get(topic)
        if cached is not None and cached[0] == self.head(topic.hall_id):
            return cached
        pending = self._pending.get(topic)
        if pending is None:
            pending = asyncio.ensure_future(self._read_snapshot(topic, kind))
            self._pending[topic] = pending
            pending.add_done_callback(lambda _: self._pending.pop(topic, None))
        return await asyncio.shield(pending)

    async def _read_snapshot(self, topic: Topic, kind: TopicKind) -> tuple[int, str]:
        async with reading(self._engine) as conn:
            seq_row = await conn.execute(select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == topic.hall_id))
            seq = int(seq_row.scalar_one_or_none() or 0)
            data = await kind.snapshot(conn, topic)
        result = (seq, protocol.snapshot_frame(topic, seq, data))
        self._snapshots[topic] = result
        return result

    def _ring_covers(self, hall_id: int, since: int) -> bool:
        if since >= self.head(hall_id):
            return True
        ring = self._rings.get(hall_id)
        return bool(ring) and ring[0].seq <= since + 1  # type: ignore[index]

    def _register(
        self,
        sub: Subscriber,
        topic: Topic,
        kind: TopicKind,
        mode: str,
        since: int,
        older: Iterable[Event],
        prefix: list[str],
    ) -> bool:
        """Send what followed ``since`` and register the subscription, or return False on a gap.

        Runs without awaiting, so every event published before it is in ``older`` or the ring,
        and every event published after it reaches the subscriber live.
        """
        last = since
        frames = list(prefix)
        for event in self._chain(topic.hall_id, older, since):
            if event.seq != last + 1:
                return False
            last = event.seq
            shown = kind.select(topic, event)
            if shown is not None:
                frames.append(protocol.event_frame(topic, event.seq, _event_json(event, shown)))
        if last < self.head(topic.hall_id):
            return False
        # The acknowledgement comes last: a client cut off during a replay resumes from what it
        # actually received, never from a position it has not reached.
        frames.append(protocol.subscribed_frame(topic, mode, last))
        for frame in frames:
            if not sub.outbox.offer(frame):
                self.drop(sub)
                return True
        sub.topics.add(topic)
        self._subs.setdefault(topic, set()).add(sub)
        self._by_hall.setdefault(topic.hall_id, set()).add(topic)
        return True

    @staticmethod
    def _chain_from(events: Iterable[Event], after: int) -> Iterable[Event]:
        for event in events:
            if event.seq > after:
                yield event

    def _chain(self, hall_id: int, older: Iterable[Event], since: int) -> Iterable[Event]:
        last = since
        for event in self._chain_from(older, since):
            last = event.seq
            yield event
        yield from self._chain_from(self._rings.get(hall_id, ()), last)

    async def _fetch(self, hall_id: int, since: int) -> list[Event]:
        async with reading(self._engine) as conn:
            rows = await conn.execute(
                select(events_table)
                .where(events_table.c.hall_id == hall_id, events_table.c.seq > since)
                .order_by(events_table.c.seq)
                .limit(self._replay_max + 1)
            )
            return [Event(r.hall_id, int(r.seq), r.type, r.data, r.actor, r.at, r.command_id) for r in rows]

    def unsubscribe(self, sub: Subscriber, topic: Topic) -> None:
        sub.topics.discard(topic)
        subs = self._subs.get(topic)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[topic]
                hall_topics = self._by_hall.get(topic.hall_id)
                if hall_topics is not None:
                    hall_topics.discard(topic)

    def drop(self, sub: Subscriber) -> None:
        for topic in list(sub.topics):
            self.unsubscribe(sub, topic)

    def heartbeat(self) -> None:
        for sub in {s for subs in self._subs.values() for s in subs}:
            if not sub.outbox.offer(protocol.HEARTBEAT):
                self.drop(sub)

    async def run_heartbeats(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.heartbeat()


def _event_json(event: Event, shown: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": event.type, "data": dict(shown), "at": event.at.isoformat()}
