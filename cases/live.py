"""The cases topic on the realtime hub: a hall's open cases with their lights and its supervision
board. Cases are staff business only: their events reach the staff views, never the queue view."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cases.board import stored_board, supervision_board
from hall.kernel.events import Event
from hall.kernel.roles import Access, Role
from hall.storage.directory import hall_summary
from realtime.topics import Topic, TopicKind

_CASE_EVENTS = ("case.", "supervision.")


async def _cases_snapshot(conn: AsyncConnection, topic: Topic) -> Mapping[str, Any]:
    board = await stored_board(conn, topic.hall_id, datetime.now(UTC))
    if board is None:
        board = {"cases": [], "supervision": supervision_board(None, topic.hall_id, datetime.now(UTC)), "total": 0}
    return {"hall": await hall_summary(conn, topic.hall_id), **board}


def _cases_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    # Case facts carry the applicant masked; the pages re-read their lists from the API on each one.
    return event.data if event.type.startswith(_CASE_EVENTS) else None


TOPICS = (TopicKind("cases", Access.staff(Role.CLERK, Role.SUPERVISOR), _cases_select, _cases_snapshot),)
