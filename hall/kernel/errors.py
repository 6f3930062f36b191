"""Errors of hall, as a tree.

* ``HallError`` — base of everything below
    * ``SettingsError`` — a bad setting or CLI option; printed as one line, exit code 2
    * ``DomainError`` — a command not allowed by the rules; the state is unchanged
        * ``TransitionError`` — a transition not allowed from the current state (names both)
        * ``NotFound`` — a hall, counter or other object the command names does not exist
        * ``Forbidden`` — the actor may not do this
    * ``CommandTimeout`` — the writer did not commit a command in time (it may still commit)
    * ``WriterClosed`` — the writer stopped; the command was not committed
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
        return {"error": self.code, "message": self.message, **self.details}


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
