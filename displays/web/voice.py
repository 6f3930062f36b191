"""Voice calls for displays: the chime and the spoken call as WAV, made on the server by
espeak-ng (no internet needed) and cached per phrase."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from displays.voice import VoiceUnavailable, chime_wav
from hall.kernel.i18n import N_
from hall.kernel.roles import Access
from hall.runtime import runtime_of
from hall.web.access import guarded
from hall.web.problems import problem

_NUMBER = re.compile(r"^[A-Z]{0,2}[0-9]{1,6}$")
_CACHE = "public, max-age=86400"


def _wav(data: bytes) -> Response:
    return Response(data, media_type="audio/wav", headers={"cache-control": _CACHE})


@guarded(Access.anyone())
async def chime(request: Request) -> Response:
    """
    summary: The two-tone chime played before a call.
    responses:
      200: {description: audio/wav}
    """
    return _wav(chime_wav())


@guarded(Access.anyone())
async def call(request: Request) -> Response:
    """
    summary: A spoken call, e.g. "请 A023 号到 5 号窗口办理", as audio/wav (lang zh_CN or en).
    parameters:
      - {name: number, in: query, required: true, schema: {type: string, pattern: "^[A-Z]{0,2}[0-9]{1,6}$"}}
      - {name: counter, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 999}}
      - {name: lang, in: query, schema: {type: string, enum: [zh_CN, en]}}
    responses:
      200: {description: audio/wav}
      422: {description: "a number, counter or language that is not one"}
      503: {description: speech is not available on this server}
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
        data = await runtime_of(request).voice.speech_wav(number, counter, lang)
    except VoiceUnavailable as exc:
        return problem(503, "voice_unavailable", str(exc))
    return _wav(data)
