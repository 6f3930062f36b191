"""Keeping the queue's figures: adding tallies to ``queue_figures`` and to its two rollups (by day;
by day and hour without counter and clerk), in the caller's transaction.

Apart from the store (``queueing.store``) because two writers share it: the store adds each batch's
tallies as it persists the batch, and the rebuild (``hall.figures.queue_rebuild``) adds a recounted day's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hall.storage.database import accumulate
from hall.storage.queue_tables import queue_figures, queue_figures_daily, queue_figures_hourly
from queueing import figures

FIGURE_KEY = ("hall_id", "day", "hour", "service", "counter", "clerk")
DAILY_KEY = ("hall_id", "day", "service", "counter", "clerk")
HOURLY_KEY = ("hall_id", "day", "hour", "service")


async def keep_figures(conn: AsyncConnection, tallies: Sequence[tuple[int, figures.Tally]]) -> None:
    """Add tallies to the figures and to their two rollups, in the caller's transaction."""
    if not tallies:
        return
    rows = [_figure_row(hall_id, tally) for hall_id, tally in tallies]
    tables = ((queue_figures, FIGURE_KEY), (queue_figures_daily, DAILY_KEY), (queue_figures_hourly, HOURLY_KEY))
    for table, key in tables:
        await accumulate(conn, table, _rolled(rows, table, key), key, maxima=figures.MAXIMA, kept=_KEPT[table.name])


_KEPT = {
    "queue_figures": ("week", "month"),
    "queue_figures_daily": ("week", "month"),
    "queue_figures_hourly": ("weekday",),
}


def _rolled(rows: list[dict[str, Any]], table: Any, key: Sequence[str]) -> list[dict[str, Any]]:
    """The rows summed by ``key`` with the columns ``table`` has: one row per key, as one
    upsert statement may carry each key once."""
    names = [c.name for c in table.columns]
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        k = tuple(row[name] for name in key)
        known = by_key.get(k)
        if known is None:
            by_key[k] = {name: row[name] for name in names}
            continue
        for name in figures.COUNTS:
            known[name] = max(known[name], row[name]) if name in figures.MAXIMA else known[name] + row[name]
    return [by_key[k] for k in sorted(by_key)]


def _figure_row(hall_id: int, tally: figures.Tally) -> dict[str, Any]:
    key = tally.key
    return {
        "hall_id": hall_id,
        "day": key.day,
        "hour": key.hour,
        "service": key.service,
        "counter": key.counter,
        "clerk": key.clerk,
        "week": key.week,
        "month": key.month,
        "weekday": key.weekday,
        **tally.counts(),
    }
