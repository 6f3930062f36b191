"""Voice calls for displays: the chime as WAV and the spoken call as MP3, joined on the server
from the clips that ship with hall (no speech engine and no internet needed).

The call is one file, not a playlist of clips for the page to play: one request and one decode
per call, no gaps from fetching between words, cached by the browser like any file, and the same
URL serves a display device that plays a single sound. A display page reports here whether its
sound plays, for the technicians' device console."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from devices.protocol import VOICE_STATES
from displays.voice import VoiceUnavailable, chime_wav
from hall.kernel.i18n import N_, Text
from hall.kernel.roles import Access
from hall.runtime import runtime_of
from hall.web.access import guarded
from hall.web.api import json_body
from hall.web.problems import problem
from hall.web.screen_keys import KEY_HEADER, valid_key

_NUMBER = re.compile(r"^[A-Z]{0,2}[0-9]{1,6}$")
_CACHE = "public, max-age=86400"


@guarded(Access.anyone())
async def chime(request: Request) -> Response:
    """
    summary: The two-tone chime played before a call.
    responses:
      200: {description: audio/wav}
    """
    return Response(chime_wav(), media_type="audio/wav", headers={"cache-control": _CACHE})


@guarded(Access.anyone())
async def call(request: Request) -> Response:
    """
    summary: A spoken call, e.g. "请 A023 号到 5 号窗口办理", as audio/mpeg (lang zh_CN or en).
    parameters:
      - {name: number, in: query, required: true, schema: {type: string, pattern: "^[A-Z]{0,2}[0-9]{1,6}$"}}
      - {name: counter, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 999}}
      - {name: lang, in: query, schema: {type: string, enum: [zh_CN, en]}}
    responses:
      200: {description: audio/mpeg}
      422: {description: "a number, counter or language that is not one"}
      503: {description: the voice clips are missing from this installation}
    """
    number = request.query_params.get("number", "")
    lang = request.query_params.get("lang", "zh_CN")
    try:
        counter = int(request.query_params.get("counter", ""))
    except ValueError:
        counter = 0
    # Only calls can be spoken: free text would let anyone make the server speak anything.
    if not _NUMBER.match(number) or not 1 <= counter <= 999 or lang not in ("zh_CN", "en"):
        return problem(422, "invalid", N_("number must look like A023, counter 1–999, lang zh_CN or en"))
    try:
        data = await runtime_of(request).calls.call_mp3(number, counter, lang)
    except VoiceUnavailable as exc:
        return problem(503, "voice_unavailable", str(exc))
    return Response(data, media_type="audio/mpeg", headers={"cache-control": _CACHE})


@guarded(Access.anyone())
async def report(request: Request) -> Response:
    """
    summary: A queue display page reports its sound (ok, blocked, failed, off) for the device console.
    description: >
      Sent by /display/{hall}?device=<id> when its sound changes: whether calls are heard, the
      browser refuses sound until a click, or the call audio fails. Kept as the device's
      ``voice`` telemetry, as a display on the bus reports it. Only for an active queue display
      of the hall, from its own screen: the page sends the key of its address (X-Screen-Key), which
      the device console gives technicians. It is a measurement, not a command: nothing else changes.
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [voice]
            properties: {voice: {type: string, enum: [ok, blocked, failed, off]}}
    responses:
      200: {description: '{"device": …, "voice": …}'}
      404: {description: "no queue display of this hall with that id, or no device bus on this server"}
      422: {description: a voice state that is not one}
    """
    data = await json_body(request)
    voice = data.get("voice")
    if not isinstance(voice, str) or voice not in VOICE_STATES:
        names = ", ".join(VOICE_STATES)
        return problem(422, "invalid", Text(N_("voice must be one of {names}"), {"names": names}), field="voice")
    side = runtime_of(request).devices
    device = request.path_params["device"]
    hall_id = request.path_params["hall"]
    # Only the display's own screen (its key, from the device console) speaks for it.
    secret = runtime_of(request).settings.secret_key
    if not valid_key(secret, hall_id, device, request.headers.get(KEY_HEADER)):
        return problem(404, "not_found", N_("no queue display of this hall has that id"))
    if side is None or not side.gateway.report_voice(hall_id, device, voice):
        return problem(404, "not_found", N_("no queue display of this hall has that id"))
    return JSONResponse({"device": device, "voice": voice})
