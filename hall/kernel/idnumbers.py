"""Resident identity card numbers (居民身份证号码, GB 11643-1999): 18 characters whose last is a
check digit (ISO 7064 MOD 11-2). Validation is python-stdnum's ``stdnum.cn.ric``, which also
checks the birth date; nothing here reimplements it."""

from __future__ import annotations

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from hall.kernel.errors import DomainError
from hall.kernel.i18n import N_, Text

# What is wrong with a number, in words for the person who typed it (stdnum's own are English).
_REASONS: tuple[tuple[type[ValidationError], str], ...] = (
    (InvalidLength, N_("it does not have 18 characters")),
    (InvalidFormat, N_("it has characters that do not belong in it")),
    (InvalidChecksum, N_("its check digit does not match")),
    (InvalidComponent, N_("its birth date or region code is not valid")),
)


class InvalidIdNumber(DomainError):
    code = "invalid_id_number"


def normalise(number: str) -> str:
    """The number in its standard form (no spaces, capital X), or ``InvalidIdNumber``."""
    try:
        return str(ric.validate(number))
    except ValidationError as exc:
        reason = next((Text(words) for kind, words in _REASONS if isinstance(exc, kind)), Text(N_("it is not valid")))
        raise InvalidIdNumber(
            N_("not a valid ID number: {reason}"), field="id_number", say={"reason": reason}
        ) from None
