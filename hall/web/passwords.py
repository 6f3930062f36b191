"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's recommendations), and
the rule a chosen password must pass (zxcvbn's estimate, which knows leaked and common passwords)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from hall.kernel.i18n import N_

_hasher = PasswordHasher()
# Verified against when a username is unknown, so that a miss costs as long as a wrong password
# and response times do not reveal which usernames exist.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A first password to print once: 16 URL-safe characters, about 96 bits."""
    return secrets.token_urlsafe(12)


MAX_LENGTH = 200
# zxcvbn's score: 3 is "safely unguessable" against an online attack and slow offline guessing.
MIN_SCORE = 3


def weakness(password: str, *, hints: Sequence[str] = ()) -> str | None:
    """Why ``password`` may not be chosen (a message id to translate), or None when it may.

    A password is at least ``MIN_LENGTH`` characters, and neither common (zxcvbn's lists of
    leaked passwords, words and names, with its patterns: keyboard rows, dates, repeats) nor made
    of the ``hints`` (the username and name of its owner)."""
    if len(password) < MIN_LENGTH:
        return N_("A password needs at least 10 characters.")
    if len(password) > MAX_LENGTH:
        return N_("A password may have at most 200 characters.")
    lowered = password.lower()
    if any(hint and hint.lower() in lowered for hint in hints):
        return N_("A password may not contain your username or name.")
    if zxcvbn(password, user_inputs=list(hints))["score"] < MIN_SCORE:
        return N_("This password is too common or too easy to guess; choose a longer, less usual one.")
    return None
