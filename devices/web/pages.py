"""The technician's device console page; the JSON API it drives is devices.web.api."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from devices.web import api as device_api
from devices.wires import BAUDS, DEFAULT_BAUD, PROTOCOLS
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.web.access import guarded
from hall.web.render import hall_and_state
from hall.web.templating import render
from queueing.state import QueueState


@guarded(Access.staff(Role.TECHNICIAN), page=True)
async def devices_console(request: Request) -> Response:
    """The technician's device console: every device of the hall live, its registration and binding,
    and commands to it with their acknowledgement (devices.web.api does the work)."""
    found = await hall_and_state(request, "queue")
    row, state = found
    assert isinstance(state, QueueState)
    context = {
        "hall": row,
        "kinds": device_api.kind_choices(),
        "counters": [{"number": n, "name": c.name or str(n)} for n, c in sorted(state.counters.items())],
        "commands": device_api.COMMANDS,
        "bauds": BAUDS,
        # Which kinds go on a wire, with their protocol and its default speed (the wire form's).
        "wirable": {kind.value: {"protocol": p.value, "baud": DEFAULT_BAUD[p]} for kind, p in PROTOCOLS.items()},
        "has_bus": (side := runtime_of(request).devices) is not None and side.broker,
    }
    return render(request, "devices.html", context)
