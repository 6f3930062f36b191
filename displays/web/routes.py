"""The displays' URLs: the chime (WAV) and spoken calls (MP3) for the queue display, and
the display's report of its sound (under ``/api/v1``)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from displays.web import voice
from hall.web import paths

# Before the routes below are made: their patterns name the convertors.
paths.register()

PAGES: list[BaseRoute] = [
    Route("/voice/chime.wav", voice.chime),
    Route("/voice/call.mp3", voice.call),
]

API: list[BaseRoute] = [
    Route("/halls/{hall:id}/displays/{device}/voice", voice.report, methods=["POST"]),
]
