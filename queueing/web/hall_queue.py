"""The hall a queue page's path names and the hall's queue state: where the counter pages and the
public screens alike start from, so it belongs to neither."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hall.web.render import hall_and_state
from queueing.state import QueueState


async def hall_and_queue(request: Request) -> tuple[Any, QueueState]:
    """The hall's row and its queue state, or the error page for a hall that does not exist."""
    found = await hall_and_state(request, "queue")
    row, state = found
    assert isinstance(state, QueueState)
    return row, state
