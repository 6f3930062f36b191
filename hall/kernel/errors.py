"""Errors of hall, as a tree. Raise anywhere; the web shell answers them in one place
(``hall.web.problems``), the writer turns a refused command into its result, and the device
gateway replies with the same ``code``.

* ``HallError`` — base of everything below
    * ``SettingsError`` — a bad setting or CLI option; printed as one line, exit code 2
        * ``cases.catalog_parse.CatalogFormatError`` — a catalog file that is not a catalog
        * ``hall.hallfile.reading.HallFileError`` — a hall file that is not sound; lists every problem
          with its line (``hall setup`` prints them all)
    * ``DomainError`` — a command not allowed by the rules; the state is unchanged (HTTP 409 unless
      its code says otherwise, see ``hall.web.problems.STATUS``)
        * ``Invalid`` — a field is missing or malformed (422)
        * ``TransitionError`` — a transition not allowed from the current state (names both; 409)
        * ``NotFound`` — a hall, counter or other object the command names does not exist (404)
        * ``Forbidden`` — the actor may not do this (403)
        * ``hall.kernel.idnumbers.InvalidIdNumber`` — an ID number fails GB 11643 (422)
        * ``queueing.serving.NothingWaiting``, ``queueing.queue.HallClosed``,
          ``queueing.issuing.SoldOut``, ``NoCounterOpen`` — no ticket to call or to take (409);
          ``queueing.issuing.LiveTicketHeld`` (the ID card holds a live ticket of the service) and
          ``OutsideCheckIn`` (an appointment outside its check-in window), 409
        * ``queueing.issuing.PriorityNotOffered`` — a priority class asked for without its proof (403)
        * ``cases.workflow.NotAcceptedHere`` (409), ``MissingMaterials`` (422)
        * ``hall.accounts.rules.UsernameTaken`` — a new account's username is in use (409)
    * ``hall.web.problems.Problem`` — an HTTP request that cannot be read (too large, not JSON), with
      its own status
    * ``CommandTimeout`` — the writer did not commit a command in time (it may still commit; 503)
    * ``WriterClosed`` — the writer stopped; the command was not committed (503)
    * ``devices.bus.BusBusy`` — the device bus's outgoing queue is full (503)
    * ``displays.voice.VoiceUnavailable`` — no speech engine for a spoken call
    * ``cases.notify.GatewayError``, ``GatewayRejected`` — the SMS provider failed or refused a message

Every message of the tree is for people in two languages: it is written as an English catalog id
wrapped in ``N_`` whose ``{name}`` fields are filled from the details (and from ``say``, for values a
program has no use for), never as an f-string, so the edge that answers a person translates it
(``hall.kernel.i18n.Text``). ``tests/kernel/test_refusal_texts.py`` checks every raise.

Outside the tree, because they are answered where they are raised and never reach a person as
such: ``devices.protocol.BadMessage`` (a device message the parser refuses; counted and replied
to with its ``code``), ``realtime.protocol.ProtocolError`` and ``realtime.topics.TopicError`` (a bad
websocket frame or topic; answered with an error frame carrying its ``code``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hall.kernel.i18n import N_, TEXT_KEY, Text


class HallError(Exception):
    """Base of hall's errors."""


class SettingsError(HallError):
    """A setting or CLI option is invalid."""


class DomainError(HallError):
    """A command the rules refuse. ``code`` is stable for programs, ``message`` is for people.

    ``message`` is given as an English template (``N_("clerk already holds counter {counter}")``)
    filled from ``details`` and ``say``; ``self.message`` is it in English (for logs), ``said()`` in
    the current request's language, and ``text`` the untranslated form the writer stores."""

    code = "refused"

    def __init__(self, message: str, /, *, say: Mapping[str, Any] | None = None, **details: Any) -> None:
        self.text = Text(message, {**details, **(say or {})})
        self.message = self.text.english
        super().__init__(self.message)
        self.details = details

    def said(self) -> str:
        return self.text.said()

    def as_json(self, locale: str | None = None) -> dict[str, Any]:
        """The one shape of an error everywhere: ``code`` for programs, ``message`` for people (in
        ``locale``, the request's when not given), and the details (``field`` …). ``error`` repeats
        the code for the clients written before ``code``."""
        return {"code": self.code, "error": self.code, "message": self.text.said(locale), **self.details}

    def record(self) -> dict[str, Any]:
        """What the writer keeps as a refused command's result: the English answer and the text that
        an edge translates for whoever reads it (``hall.kernel.i18n.localized``)."""
        return {**self.as_json("en"), TEXT_KEY: self.text.as_json()}


class Invalid(DomainError):
    """A field of the command is missing or malformed: fix the input and send it again."""

    code = "invalid"


class TransitionError(DomainError):
    """``what`` is a template too (``N_("ticket {ticket}")``, filled from ``names``); the states are
    translated as words of the ``state`` context."""

    code = "bad_transition"

    def __init__(self, what: str, current: str, wanted: str, /, **names: Any) -> None:
        words = {
            "what": Text(what, names),
            "current": Text(current, context="state"),
            "wanted": Text(wanted, context="state"),
        }
        super().__init__(
            N_("{what} cannot go from '{current}' to '{wanted}'"), say=words, current=current, wanted=wanted
        )


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class CommandTimeout(HallError):
    """No commit within the caller's time; the command may still be committed later."""


class WriterClosed(HallError):
    """The writer is stopped; nothing more is committed."""
