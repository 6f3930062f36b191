"""The wallboard's alarms in the JSON API: the hall's open and recent alarms, and a supervisor's
acknowledgement of one (recorded with who and when; a second one is refused)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hall.kernel.events import Command
from hall.kernel.i18n import N_
from hall.kernel.roles import Access, Role
from hall.runtime import runtime_of
from hall.web.access import guarded, member_of
from hall.web.api import command_body, submit
from hall.web.problems import problem
from hall.web.responses import JSONResponse
from queueing.alarms import ACKNOWLEDGED, CLEARED, AlarmBook


@guarded(Access.staff(Role.SUPERVISOR))
async def alarm_list(request: Request) -> Response:
    """
    summary: The hall's alarms - the open ones newest first; those acknowledged lately, and those cleared by themselves.
    responses:
      200: {description: "open, acknowledged and cleared alarms, each list newest handled first"}
      404: {description: no such hall}
    """
    found = await runtime_of(request).writer.read_state(request.path_params["hall"], "alarms")
    if found is None or not isinstance(found[1], AlarmBook):
        return problem(404, "not_found", N_("no such hall"))
    book = found[1]
    return JSONResponse(
        {
            "open": [a.as_json() for a in book.open()],
            "acknowledged": [a.as_json() for a in book.handled() if a.state == ACKNOWLEDGED],
            "cleared": [a.as_json() for a in book.handled() if a.state == CLEARED],
        }
    )


@guarded(Access.staff(Role.SUPERVISOR))
async def acknowledge_alarm(request: Request) -> Response:
    """
    summary: Acknowledge an alarm of the wallboard; who and when are kept with it.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties:
              command_id: {type: string, minLength: 8, maxLength: 100}
    responses:
      200: {description: the alarm after its acknowledgement}
      404: {description: no such alarm in this hall}
      409: {description: "the alarm was acknowledged already, or cleared by itself"}
    """
    _data, command_id = await command_body(request)
    member = member_of(request)
    args = {"alarm": request.path_params["alarm"], "by": member.id}
    return await submit(
        request, Command(command_id, request.path_params["hall"], "alarm.acknowledge", member.actor, args)
    )
