"""Errors of hall, as a tree. Raise anywhere; the web shell answers them in one place
(``hall.web.problems``), the writer turns a refused command into its result, and the device
gateway replies with the same ``code``.

* ``HallError`` — base of everything below
    * ``SettingsError`` — a bad setting or CLI option; printed as one line, exit code 2
        * ``cases.catalog_parse.CatalogFormatError`` — a catalog file that is not a catalog
        * ``hall.hallfile.HallFileError`` — a hall file that is not sound; lists every problem with its
          line (``hall setup`` prints them all)
    * ``DomainError`` — a command not allowed by the rules; the state is unchanged (HTTP 409 unless
      its code says otherwise, see ``hall.web.problems.STATUS``)
        * ``Invalid`` — a field is missing or malformed (422)
        * ``TransitionError`` — a transition not allowed from the current state (names both; 409)
        * ``NotFound`` — a hall, counter or other object the command names does not exist (404)
        * ``Forbidden`` — the actor may not do this (403)
        * ``hall.kernel.idnumbers.InvalidIdNumber`` — an ID number fails GB 11643 (422)
        * ``queueing.queue.NothingWaiting``, ``HallClosed``, ``SoldOut``, ``NoCounterOpen`` — no ticket to
          call or to take (409)
        * ``queueing.queue.PriorityNotOffered`` — a priority class asked for without its proof (403)
        * ``cases.workflow.NotAcceptedHere`` (409), ``MissingMaterials`` (422)
        * ``hall.accounts.rules.UsernameTaken`` — a new account's username is in use (409)
    * ``hall.web.problems.Problem`` — an HTTP request that cannot be read (too large, not JSON), with
      its own status
    * ``CommandTimeout`` — the writer did not commit a command in time (it may still commit; 503)
    * ``WriterClosed`` — the writer stopped; the command was not committed (503)
    * ``devices.bus.BusBusy`` — the device bus's outgoing queue is full (503)
    * ``displays.voice.VoiceUnavailable`` — no speech engine for a spoken call
    * ``cases.notify.GatewayError``, ``GatewayRejected`` — the SMS provider failed or refused a message

Outside the tree, because they are answered where they are raised and never reach a person as
such: ``devices.protocol.BadMessage`` (a device message the parser refuses; counted and replied
to with its ``code``), ``realtime.protocol.ProtocolError`` and ``realtime.topics.TopicError`` (a bad
websocket frame or topic; answered with an error frame carrying its ``code``).
"""

from __future__ import annotations

from typing import Any


class HallError(Exception):
    """Base of hall's errors."""


class SettingsError(HallError):
    """A setting or CLI option is invalid."""


class DomainError(HallError):
    """A command the rules refuse. ``code`` is stable for programs, ``message`` is for people."""

    code = "refused"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_json(self) -> dict[str, Any]:
        """The one shape of an error everywhere: ``code`` for programs, ``message`` for people, and
        the details (``field`` …). ``error`` repeats the code for the clients written before ``code``."""
        return {"code": self.code, "error": self.code, "message": self.message, **self.details}


class Invalid(DomainError):
    """A field of the command is missing or malformed: fix the input and send it again."""

    code = "invalid"


class TransitionError(DomainError):
    code = "bad_transition"

    def __init__(self, what: str, current: str, wanted: str) -> None:
        super().__init__(f"{what} cannot go from {current!r} to {wanted!r}", current=current, wanted=wanted)


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class CommandTimeout(HallError):
    """No commit within the caller's time; the command may still be committed later."""


class WriterClosed(HallError):
    """The writer is stopped; nothing more is committed."""
