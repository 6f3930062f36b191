"""Resident identity card numbers (居民身份证号码, GB 11643-1999): 18 characters whose last is a
check digit (ISO 7064 MOD 11-2). Validation is python-stdnum's ``stdnum.cn.ric``, which also
checks the birth date; nothing here reimplements it."""

from __future__ import annotations

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from hall.kernel.errors import DomainError


class InvalidIdNumber(DomainError):
    code = "invalid_id_number"


def normalise(number: str) -> str:
    """The number in its standard form (no spaces, capital X), or ``InvalidIdNumber``."""
    try:
        return str(ric.validate(number))
    except ValidationError as exc:
        raise InvalidIdNumber(f"not a valid ID number: {exc}", field="id_number") from None
