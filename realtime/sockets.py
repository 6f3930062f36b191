"""The open connections that belong to a staff session, so that a session's end ends them too.

A staff socket follows staff topics for as long as it is open; were it left open after logout, an
account's deactivation or a change of its roles, it would go on receiving what its owner may no
longer see. So each is filed under its session's key (an opaque string from whoever identifies
connections; the hub knows no sessions): ending the session closes its sockets at once, and a sweep
re-identifies every one on the heartbeat, which catches sessions that expired or were ended by
another server process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hall.kernel.roles import Role
from realtime.connection import Outbox

log = logging.getLogger(__name__)

# Close code for "your session has ended": the page reloads, and the login page takes over.
SESSION_ENDED = 4401


@dataclass(frozen=True)
class Identity:
    """Who a connection belongs to: the session it rides on and what that session may do."""

    session: str
    roles: frozenset[Role]
    hall_id: int


# Looks again at who is behind a connection; None once its session is over.
Recheck = Callable[[], Awaitable[Identity | None]]


@dataclass(eq=False)
class _Open:
    outbox: Outbox
    identity: Identity
    recheck: Recheck


class StaffSockets:
    def __init__(self) -> None:
        self._by_session: dict[str, set[_Open]] = {}
        self._by_outbox: dict[int, _Open] = {}

    def __len__(self) -> int:
        return len(self._by_outbox)

    def file(self, outbox: Outbox, identity: Identity, recheck: Recheck) -> None:
        """Files (or re-files, when it now rides on another session) an open staff connection."""
        self.forget(outbox)
        entry = _Open(outbox, identity, recheck)
        self._by_outbox[id(outbox)] = entry
        self._by_session.setdefault(identity.session, set()).add(entry)

    def identity_of(self, outbox: Outbox) -> Identity | None:
        entry = self._by_outbox.get(id(outbox))
        return entry.identity if entry is not None else None

    def forget(self, outbox: Outbox) -> None:
        entry = self._by_outbox.pop(id(outbox), None)
        if entry is None:
            return
        group = self._by_session.get(entry.identity.session)
        if group is not None:
            group.discard(entry)
            if not group:
                del self._by_session[entry.identity.session]

    def end_session(self, session: str) -> int:
        """Closes every connection of ``session``; returns how many there were."""
        entries = list(self._by_session.pop(session, ()))
        for entry in entries:
            self._by_outbox.pop(id(entry.outbox), None)
            entry.outbox.cut(SESSION_ENDED, "session ended: log in again")
        return len(entries)

    async def sweep(self) -> int:
        """Closes the connections whose session is over or no longer has the rights it had when
        the connection was filed (roles or hall changed); returns how many were closed."""
        closed = 0
        for entry in list(self._by_outbox.values()):
            if entry.outbox.closed:
                self.forget(entry.outbox)
                continue
            try:
                now = await entry.recheck()
            except Exception:
                # A database hiccup must not log everybody out; the next sweep looks again.
                log.warning("could not re-check a staff connection's session", exc_info=True)
                continue
            if now != entry.identity:
                self.forget(entry.outbox)
                entry.outbox.cut(SESSION_ENDED, "session ended: log in again")
                closed += 1
        return closed
